import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import {
  AggregateCache,
  aggregateRepositoryProvider,
  aggregateRepositoryToken,
  PostgresSnapshotStore,
  SnapshotWriter,
  type AggregateClass,
  type AggregateRoot,
} from './aggregates/index.js';
import {
  CHRONICLE_OPTIONS,
  ChronicleModuleOptionsError,
  type ChronicleModuleAsyncOptions,
  type ChronicleModuleOptions,
  type ChronicleOptionsFactory,
} from './chronicle.options.js';
import {
  COMMAND_HANDLING_OPTIONS,
  CommandPipeline,
  EnabledModules,
  enabledModulesFrom,
  FailureReporter,
  HandlingModule,
  MalformedMessageLog,
  MessageGateway,
  UnitOfWork,
} from './handling/index.js';
import {
  Documents,
  documentsFeatureProvider,
  type DocumentsOptions,
} from './documents/index.js';
import { ErrorMessages, ErrorMessagesModule } from './error-messages/index.js';
import {
  ChronicleHealthIndicator,
  HEALTH_OPTIONS,
  MetricsEndpoint,
} from './observability/index.js';
import { Telemetry } from './telemetry/index.js';
import {
  MasterKey,
  PersonalDataCipher,
  PersonalDataService,
  PostgresKeyStore,
} from './security/personal-data/index.js';
import {
  HandlingLog,
  MESSAGE_LOG_OPTIONS,
  MessageLogPartitions,
  MessageLog,
  MessageLogWriter,
  resolveMessageLogOptions,
  type ResolvedMessageLogOptions,
} from './message-log/index.js';
import { MESSAGE_OPTIONS, UpcastingModule } from './messages/index.js';
import {
  AccessCheck,
  CurrentUser,
  SECURITY_OPTIONS,
  UserInterceptor,
} from './security/index.js';
import {
  SCHEDULING_OPTIONS,
  SchedulingModule,
  schedulingExports,
  schedulingProviders,
} from './scheduling/index.js';
import {
  AppendSignal,
  EventStore,
  LocalAppendSignal,
  openSqlClient,
  PostgresEventStore,
  projectionSchemaFor,
  SQL_CLIENT,
  StoreSchema,
  type SqlClient,
} from './store/index.js';
import {
  checkSubjectToken,
  eventsSubject,
  openTransport,
  RelayedAppendSignal,
  serveLimitsOf,
  Transport,
  TRANSPORT_OPTIONS,
  TransportError,
  type ResolvedTransportOptions,
} from './transport/index.js';
import { ProcessesModule } from './processes/index.js';
import {
  CONSUMER_COLLECTIONS,
  TRACKING_OPTIONS,
  TrackingModule,
  type TrackingSettings,
} from './tracking/index.js';
import {
  NOTIFICATION_OPTIONS,
  NotificationsModule,
} from './notifications/index.js';

/**
 * Closes the connections when the application closes: the transport (already
 * drained by the router) and then the database (unless the user owns it).
 */
@Injectable()
class ConnectionsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(SQL_CLIENT) private readonly client: SqlClient,
    @Inject(CHRONICLE_OPTIONS) private readonly options: ChronicleModuleOptions,
    private readonly transport: Transport,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
    // A client handed in through `database.client` belongs to the caller.
    if (!this.options.database?.client) await this.client.close();
  }
}

/** The schema of Chronicle's tables. */
function storeSchemaOf(options: ChronicleModuleOptions): string {
  return (
    options.database?.schema ?? process.env.CHRONICLE_SCHEMA ?? 'chronicle'
  );
}

function resolveTransportOptions(
  options: ChronicleModuleOptions,
): ResolvedTransportOptions {
  const transport = options.transport ?? {};
  const usesNats = Boolean(
    transport.nats || (!transport.local && process.env.NATS_URL),
  );
  if (usesNats && !options.app) {
    throw new TransportError(
      'Set `app` in ChronicleModule.forRoot when using NATS: it names the app to NATS ' +
        'and to the other apps (e.g. `app: "orders"`).',
    );
  }
  return {
    app: checkSubjectToken('app name', options.app ?? 'app'),
    namespace: checkSubjectToken(
      'namespace',
      transport.namespace ?? process.env.CHRONICLE_NAMESPACE ?? 'default',
    ),
    timeoutMs: transport.timeoutMs ?? 10_000,
    routing: transport.routing ?? 'local',
    debug: transport.debug ?? false,
    serveLimits: serveLimitsOf(transport),
    enabled: enabledModulesFrom(options.enabled),
    enabledFrom: options.enabled ? 'enabled' : 'CHRONICLE_ENABLED',
  };
}

function asyncOptionsProviders(
  options: ChronicleModuleAsyncOptions,
): Provider[] {
  const given = (['useFactory', 'useClass', 'useExisting'] as const).filter(
    (key) => options[key] !== undefined,
  );
  if (given.length !== 1) {
    throw new ChronicleModuleOptionsError(
      `ChronicleModule.forRootAsync needs exactly one of useFactory, useClass or useExisting; ` +
        `got ${given.length === 0 ? 'none' : given.join(' and ')}.`,
    );
  }
  if (options.useFactory) {
    return [
      {
        provide: CHRONICLE_OPTIONS,
        useFactory: options.useFactory,
        inject: options.inject ?? [],
      },
    ];
  }
  const factory = (options.useClass ?? options.useExisting) as NonNullable<
    ChronicleModuleAsyncOptions['useClass']
  >;
  return [
    {
      provide: CHRONICLE_OPTIONS,
      useFactory: (made: ChronicleOptionsFactory) =>
        made.createChronicleOptions(),
      inject: [factory],
    },
    // useExisting: a module in `imports` (or a global one) provides it.
    ...(options.useClass ? [{ provide: factory, useClass: factory }] : []),
  ];
}

/** This process, in the message log: host and pid, unless `tracking.instanceId` names it. */
const INSTANCE = `${hostname()}:${process.pid}`;

const coreProviders: Provider[] = [
  {
    provide: Telemetry,
    useFactory: (options: ChronicleModuleOptions) =>
      Telemetry.from(options.metrics),
    inject: [CHRONICLE_OPTIONS],
  },
  MetricsEndpoint,
  {
    provide: SQL_CLIENT,
    useFactory: (options: ChronicleModuleOptions) =>
      openSqlClient({
        ...options.database,
        projectionSchema: projectionSchemaFor(options.database),
      }),
    inject: [CHRONICLE_OPTIONS],
  },
  {
    provide: TRANSPORT_OPTIONS,
    useFactory: (options: ChronicleModuleOptions): ResolvedTransportOptions =>
      resolveTransportOptions(options),
    inject: [CHRONICLE_OPTIONS],
  },
  {
    provide: Transport,
    useFactory: (
      options: ChronicleModuleOptions,
      resolved: ResolvedTransportOptions,
    ) => {
      const logger = new Logger('Chronicle');
      return openTransport(options.transport, resolved.app, (error) =>
        logger.error('Transport error', error),
      );
    },
    inject: [CHRONICLE_OPTIONS, TRANSPORT_OPTIONS],
  },
  {
    provide: AppendSignal,
    useFactory: (transport: Transport, resolved: ResolvedTransportOptions) =>
      transport.status().kind === 'nats'
        ? RelayedAppendSignal.start(
            transport,
            eventsSubject(resolved.namespace),
          )
        : new LocalAppendSignal(),
    inject: [Transport, TRANSPORT_OPTIONS],
  },
  {
    provide: PersonalDataCipher,
    useFactory: (client: SqlClient, options: ChronicleModuleOptions) =>
      new PersonalDataCipher(
        options.personalData?.keyStore ??
          new PostgresKeyStore(client, new StoreSchema(storeSchemaOf(options))),
        MasterKey.from(
          options.personalData?.masterKey ?? process.env.CHRONICLE_MASTER_KEY,
        ),
        { cacheSize: options.personalData?.cacheSize },
      ),
    inject: [SQL_CLIENT, CHRONICLE_OPTIONS],
  },
  {
    provide: EventStore,
    useFactory: async (
      client: SqlClient,
      options: ChronicleModuleOptions,
      signal: AppendSignal,
      telemetry: Telemetry,
      cipher: PersonalDataCipher,
    ) => {
      const store = new PostgresEventStore(
        client,
        storeSchemaOf(options),
        signal,
        {
          groupCommit: options.database?.groupCommit ?? true,
          telemetry,
          cipher,
        },
      );
      await store.migrate();
      return store;
    },
    inject: [
      SQL_CLIENT,
      CHRONICLE_OPTIONS,
      AppendSignal,
      Telemetry,
      PersonalDataCipher,
    ],
  },
  PersonalDataService,
  {
    provide: COMMAND_HANDLING_OPTIONS,
    useFactory: (options: ChronicleModuleOptions) => options.commands ?? {},
    inject: [CHRONICLE_OPTIONS],
  },
  {
    provide: MESSAGE_OPTIONS,
    useFactory: (options: ChronicleModuleOptions) => options.messages ?? {},
    inject: [CHRONICLE_OPTIONS],
  },
  ConnectionsLifecycle,
  {
    provide: AggregateCache,
    useFactory: ({ aggregates }: ChronicleModuleOptions) =>
      new AggregateCache(
        aggregates?.cache === true
          ? {}
          : aggregates?.cache
            ? aggregates.cache
            : { maxEntries: 0 },
      ),
    inject: [CHRONICLE_OPTIONS],
  },
  {
    // The store's migrations made the snapshots table before this runs.
    provide: SnapshotWriter,
    useFactory: (store: PostgresEventStore, options: ChronicleModuleOptions) =>
      new SnapshotWriter(
        new PostgresSnapshotStore(store.client, store.schema),
        options.aggregates?.snapshots !== false,
      ),
    inject: [EventStore, CHRONICLE_OPTIONS],
  },
  {
    provide: TRACKING_OPTIONS,
    // Consumers' own schemas are named after the projection schema, even on a
    // client handed in (whose search_path Chronicle leaves alone).
    useFactory: (options: ChronicleModuleOptions): TrackingSettings => ({
      ...options.tracking,
      projectionSchema: projectionSchemaFor({
        ...options.database,
        client: undefined,
      }),
    }),
    inject: [CHRONICLE_OPTIONS],
  },
  {
    provide: NOTIFICATION_OPTIONS,
    useFactory: (options: ChronicleModuleOptions) =>
      options.notifications ?? {},
    inject: [CHRONICLE_OPTIONS],
  },
  {
    provide: MESSAGE_LOG_OPTIONS,
    useFactory: (
      options: ChronicleModuleOptions,
      transport: ResolvedTransportOptions,
    ) => resolveMessageLogOptions(options.messageLog, transport.debug),
    inject: [CHRONICLE_OPTIONS, TRANSPORT_OPTIONS],
  },
  {
    // The store's migrations made the message_log table before this runs.
    provide: MessageLogWriter,
    useFactory: (
      store: PostgresEventStore,
      options: ResolvedMessageLogOptions,
      telemetry: Telemetry,
    ) => new MessageLogWriter(store.client, store.schema, options, telemetry),
    inject: [EventStore, MESSAGE_LOG_OPTIONS, Telemetry],
  },
  {
    // Today's partitions exist before any provider's init hook can send a
    // command: the first run is awaited here, the hourly ones start on bootstrap.
    provide: MessageLogPartitions,
    useFactory: async (
      store: PostgresEventStore,
      options: ResolvedMessageLogOptions,
    ) => {
      const partitions = new MessageLogPartitions(
        store.client,
        store.schema,
        options,
      );
      if (options.enabled) await partitions.maintain();
      return partitions;
    },
    inject: [EventStore, MESSAGE_LOG_OPTIONS],
  },
  {
    provide: MessageLog,
    useFactory: (store: PostgresEventStore) =>
      new MessageLog(store.client, store.schema),
    inject: [EventStore],
  },
  {
    provide: HandlingLog,
    useFactory: (
      writer: MessageLogWriter,
      options: ChronicleModuleOptions,
      transport: ResolvedTransportOptions,
    ) =>
      new HandlingLog(writer, {
        app: options.app ?? transport.app,
        instance: options.tracking?.instanceId ?? INSTANCE,
      }),
    inject: [MessageLogWriter, CHRONICLE_OPTIONS, TRANSPORT_OPTIONS],
  },
  {
    // Every failed handling of this process becomes an error message.
    provide: FailureReporter,
    useFactory: (
      transport: Transport,
      writer: MessageLogWriter,
      options: ChronicleModuleOptions,
      resolved: ResolvedTransportOptions,
    ) =>
      new ErrorMessages(transport, writer, {
        app: resolved.app,
        instance: options.tracking?.instanceId ?? INSTANCE,
        namespace: resolved.namespace,
      }),
    inject: [Transport, MessageLogWriter, CHRONICLE_OPTIONS, TRANSPORT_OPTIONS],
  },
  UnitOfWork,
  {
    // Tables and indexes are ready before any provider's init hook can write.
    provide: Documents,
    useFactory: async (
      client: SqlClient,
      options: ChronicleModuleOptions,
      unitOfWork: UnitOfWork,
      personalData: PersonalDataService,
    ) => {
      // Named after the projection schema even on a client handed in, as consumers' schemas are.
      const schema = projectionSchemaFor({
        ...options.database,
        client: undefined,
      }) as string;
      const documents = new Documents(
        client,
        schema,
        options.documents?.collections ?? [],
        unitOfWork,
        { service: personalData, storeSchema: storeSchemaOf(options) },
      );
      await documents.prepare();
      return documents;
    },
    inject: [SQL_CLIENT, CHRONICLE_OPTIONS, UnitOfWork, PersonalDataService],
  },
  // Tracking hands the collections its consumers fill to the documents.
  { provide: CONSUMER_COLLECTIONS, useExisting: Documents },
  CommandPipeline,
  MessageGateway,
  EnabledModules,
  { provide: MalformedMessageLog, useFactory: () => new MalformedMessageLog() },
  {
    provide: HEALTH_OPTIONS,
    useFactory: (options: ChronicleModuleOptions) => options.health ?? {},
    inject: [CHRONICLE_OPTIONS],
  },
  ChronicleHealthIndicator,
  {
    provide: SCHEDULING_OPTIONS,
    useFactory: (options: ChronicleModuleOptions) => options.scheduling ?? {},
    inject: [CHRONICLE_OPTIONS],
  },
  ...schedulingProviders,
  {
    provide: SECURITY_OPTIONS,
    useFactory: (options: ChronicleModuleOptions) => options.security ?? {},
    inject: [CHRONICLE_OPTIONS],
  },
  {
    provide: AccessCheck,
    useFactory: (options: ChronicleModuleOptions) =>
      new AccessCheck(options.security),
    inject: [CHRONICLE_OPTIONS],
  },
  {
    provide: CurrentUser,
    useFactory: (access: AccessCheck) => new CurrentUser(access),
    inject: [AccessCheck],
  },
  UserInterceptor,
];

const coreExports = [
  Telemetry,
  PersonalDataCipher,
  PersonalDataService,
  MESSAGE_LOG_OPTIONS,
  MessageLogWriter,
  MessageLogPartitions,
  MessageLog,
  HandlingLog,
  FailureReporter,
  CHRONICLE_OPTIONS,
  COMMAND_HANDLING_OPTIONS,
  MESSAGE_OPTIONS,
  SQL_CLIENT,
  TRANSPORT_OPTIONS,
  Transport,
  AppendSignal,
  EventStore,
  UnitOfWork,
  Documents,
  CONSUMER_COLLECTIONS,
  CommandPipeline,
  MessageGateway,
  EnabledModules,
  MalformedMessageLog,
  ChronicleHealthIndicator,
  AggregateCache,
  SnapshotWriter,
  TRACKING_OPTIONS,
  NOTIFICATION_OPTIONS,
  ...schedulingExports,
  SECURITY_OPTIONS,
  AccessCheck,
  CurrentUser,
  UserInterceptor,
];

/**
 * The one module a Chronicle app imports. `forRoot` once in the root module
 * (it is global and brings @nestjs/cqrs with it); `forFeature` in each module
 * that needs aggregate repositories.
 */
@Module({})
export class ChronicleModule {
  /** With no options: embedded PGlite in memory and in-process delivery. */
  static forRoot(options: ChronicleModuleOptions = {}): DynamicModule {
    return ChronicleModule.root([
      { provide: CHRONICLE_OPTIONS, useValue: options },
    ]);
  }

  /**
   * Options made at start, as Nest modules take them: `useFactory` (with
   * `inject`, e.g. `ConfigService` from @nestjs/config), `useClass` or
   * `useExisting` (a `ChronicleOptionsFactory`).
   */
  static forRootAsync(options: ChronicleModuleAsyncOptions): DynamicModule {
    return ChronicleModule.root(
      asyncOptionsProviders(options),
      options.imports ?? [],
    );
  }

  /**
   * Provides `AggregateRepository` for each listed aggregate class, and
   * declares the document collections the module owns (their tables and
   * indexes are ready before any init hook runs).
   */
  static forFeature(
    aggregates: readonly AggregateClass<AggregateRoot>[],
    feature: { readonly documents?: DocumentsOptions['collections'] } = {},
  ): DynamicModule {
    const documents = feature.documents ?? [];
    return {
      module: ChronicleModule,
      providers: [
        ...aggregates.map(aggregateRepositoryProvider),
        ...(documents.length > 0 ? [documentsFeatureProvider(documents)] : []),
      ],
      exports: aggregates.map(aggregateRepositoryToken),
    };
  }

  private static root(
    optionsProviders: Provider[],
    imports: NonNullable<ChronicleModuleAsyncOptions['imports']> = [],
  ): DynamicModule {
    return {
      module: ChronicleModule,
      global: true,
      imports: [
        CqrsModule.forRoot(),
        HandlingModule,
        UpcastingModule,
        TrackingModule,
        NotificationsModule,
        SchedulingModule,
        ErrorMessagesModule,
        ProcessesModule,
        ...imports,
      ],
      providers: [...optionsProviders, ...coreProviders],
      exports: [
        ...coreExports,
        CqrsModule,
        UpcastingModule,
        TrackingModule,
        NotificationsModule,
      ],
    };
  }
}
