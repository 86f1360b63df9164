import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import {
  aggregateRepositoryProvider,
  aggregateRepositoryToken,
  type AggregateClass,
  type AggregateRoot,
} from './aggregates/index.js';
import {
  CHRONICLE_OPTIONS,
  type ChronicleModuleAsyncOptions,
  type ChronicleModuleOptions,
} from './chronicle.options.js';
import {
  COMMAND_HANDLING_OPTIONS,
  CommandPipeline,
  HandlingModule,
  MessageGateway,
  UnitOfWork,
} from './handling/index.js';
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
  SQL_CLIENT,
  type SqlClient,
} from './store/index.js';

/** Closes the database when the application closes (unless the user owns it). */
@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SQL_CLIENT) private readonly client: SqlClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

const coreProviders: Provider[] = [
  {
    provide: SQL_CLIENT,
    useFactory: (options: ChronicleModuleOptions) =>
      openSqlClient(options.database),
    inject: [CHRONICLE_OPTIONS],
  },
  { provide: AppendSignal, useClass: LocalAppendSignal },
  {
    provide: EventStore,
    useFactory: async (
      client: SqlClient,
      options: ChronicleModuleOptions,
      signal: AppendSignal,
    ) => {
      const store = new PostgresEventStore(
        client,
        options.database?.schema,
        signal,
      );
      await store.migrate();
      return store;
    },
    inject: [SQL_CLIENT, CHRONICLE_OPTIONS, AppendSignal],
  },
  {
    provide: COMMAND_HANDLING_OPTIONS,
    useFactory: (options: ChronicleModuleOptions) => options.commands ?? {},
    inject: [CHRONICLE_OPTIONS],
  },
  DatabaseLifecycle,
  UnitOfWork,
  CommandPipeline,
  MessageGateway,
  {
    provide: SCHEDULING_OPTIONS,
    useFactory: (options: ChronicleModuleOptions) => options.scheduling ?? {},
    inject: [CHRONICLE_OPTIONS],
  },
  ...schedulingProviders,
];

const coreExports = [
  CHRONICLE_OPTIONS,
  SQL_CLIENT,
  AppendSignal,
  EventStore,
  UnitOfWork,
  CommandPipeline,
  MessageGateway,
  ...schedulingExports,
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

  /** Options from a factory, e.g. with `ConfigService` from @nestjs/config. */
  static forRootAsync(options: ChronicleModuleAsyncOptions): DynamicModule {
    return ChronicleModule.root(
      [
        {
          provide: CHRONICLE_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
      ],
      options.imports ?? [],
    );
  }

  /** Provides `AggregateRepository` for each listed aggregate class. */
  static forFeature(
    aggregates: readonly AggregateClass<AggregateRoot>[],
  ): DynamicModule {
    return {
      module: ChronicleModule,
      providers: aggregates.map(aggregateRepositoryProvider),
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
        SchedulingModule,
        ...imports,
      ],
      providers: [...optionsProviders, ...coreProviders],
      exports: [...coreExports, CqrsModule],
    };
  }
}
