import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { EnabledModules, FailureReporter } from '../handling/index.js';
import { DiscoveryService } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import {
  MessageContext,
  MessageTypeRegistry,
  UnregisteredMessageError,
  type Envelope,
} from '../messages/index.js';
import { AccessCheck, isAccessRefusal } from '../security/index.js';
import {
  PgliteSqlClient,
  SQL_CLIENT,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';
import type {
  ConsumerDefinition,
  EventHandlerFn,
  ResetHookFn,
} from './consumer-definition.js';
import {
  consumerMetadataOf,
  eventHandlersOf,
  resetHooksOf,
} from './consumer.decorators.js';
import { resolveConsumerOptions } from './consumer.options.js';
import { openClientTransaction } from './open-transaction.js';
import {
  consumerSchemaName,
  openerInSchema,
  type ConsumerSchemaSettings,
} from './projection-tables.js';
import {
  checkEntityTables,
  entityTableStatements,
  type EntityClass,
} from './entity-tables.js';
import {
  ConsumerDefinitionError,
  DuplicateConsumerError,
  EntityTableError,
} from './tracking.errors.js';
import {
  isPostgresDataSource,
  openTypeOrmTransaction,
} from './typeorm-transaction.js';

type Method = (...args: unknown[]) => unknown;

/**
 * Finds the `@Consumer` providers once, at bootstrap (decorators only store
 * metadata), and the @nestjs/typeorm DataSources they may commit through.
 */
@Injectable()
export class ConsumerExplorer {
  private readonly logger = new Logger('ChronicleTracking');

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(SQL_CLIENT) private readonly client: SqlClient,
    private readonly enabledModules: EnabledModules,
    @Optional() private readonly access?: AccessCheck,
    @Optional() private readonly failures?: FailureReporter,
  ) {
    enabledModules.countAsWork('consumers', (type) =>
      Boolean(consumerMetadataOf(type)),
    );
  }

  async explore(
    schema: StoreSchema,
    tables: Omit<ConsumerSchemaSettings, 'schema'>,
  ): Promise<ConsumerDefinition[]> {
    const dataSources = this.dataSources();
    const found = new Map<string, ConsumerDefinition>();
    for (const wrapper of this.discovery.getProviders()) {
      const type = wrapper.instance?.constructor ?? wrapper.metatype;
      if (typeof type !== 'function') continue;
      const metadata = consumerMetadataOf(type);
      if (!metadata) continue;
      // A module this process does not enable runs its consumers elsewhere.
      if (!this.enabledModules.isEnabled(wrapper)) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" (${type.name}) is request-scoped; consumers run outside requests: make it a singleton.`,
        );
      }
      const instance = wrapper.instance as Record<string | symbol, Method>;
      const previous = found.get(metadata.name);
      if (previous)
        throw new DuplicateConsumerError(
          metadata.name,
          previous.className,
          type.name,
        );
      const handlers = new Map<string, EventHandlerFn[]>();
      for (const { method, events } of eventHandlersOf(type)) {
        for (const event of events) {
          const info = MessageTypeRegistry.forClass(event);
          if (!info) throw new UnregisteredMessageError(event.name, 'Event');
          const list = handlers.get(info.name) ?? [];
          // Each handler runs as itself: what it sends gets ids derived from
          // the event, the consumer and the method, the same on every re-run.
          const handlerName = `consumer:${metadata.name}:${String(method)}`;
          const rule = this.access?.ruleFor(type, event, false) ?? null;
          const run: EventHandlerFn = (payload, envelope, context) =>
            rule !== null && this.refused(rule, envelope, handlerName)
              ? undefined
              : MessageContext.run(
                  envelope,
                  () =>
                    instance[method].call(instance, payload, envelope, context),
                  handlerName,
                );
          list.push(Object.assign(run, { handlerName }));
          handlers.set(info.name, list);
        }
      }
      if (handlers.size === 0) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" (${type.name}) handles no events: decorate its methods with @HandleEvent(SomeEvent).`,
        );
      }
      const resetHooks: ResetHookFn[] = resetHooksOf(type).map(
        (method) => (context) => instance[method].call(instance, context),
      );
      const options = resolveConsumerOptions(metadata.options);
      if (!Number.isInteger(options.segments) || options.segments < 1) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" asks for ${options.segments} segments: use a whole number, 1 or more.`,
        );
      }
      if (
        options.sequenceBy !== undefined &&
        typeof options.sequenceBy !== 'function'
      ) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" asks for sequenceBy ${typeof options.sequenceBy}: pass a function of the event, (event) => event.someId.`,
        );
      }
      if (!['stop', 'skip', 'park'].includes(options.onError)) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" asks for onError "${String(options.onError)}": use 'stop', 'skip' or 'park'.`,
        );
      }
      if (!['on-failure', 'every-event'].includes(options.savepoints)) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" asks for savepoints "${String(options.savepoints)}": use 'on-failure' or 'every-event'.`,
        );
      }
      if (
        !Array.isArray(options.tables) ||
        options.tables.some((t) =>
          typeof t === 'string' ? t.trim() === '' : typeof t !== 'function',
        )
      ) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" declares tables that are neither SQL statements nor classes: give tables as an array of DDL strings ('CREATE TABLE stock (...)') and TypeORM entity classes.`,
        );
      }
      const { dataSource, ...transactions } = await this.transactionsFor(
        options.dataSource,
        dataSources,
        schema,
      );
      const entities = options.tables.filter(
        (t): t is EntityClass => typeof t === 'function',
      );
      if (entities.length > 0) {
        if (!dataSource) {
          throw new EntityTableError(
            metadata.name,
            entities[0].name,
            `is an entity, but the consumer has no TypeORM DataSource on Chronicle's database to make its table with (${transactions.noEntityManager ?? 'none'})`,
          );
        }
        checkEntityTables(
          metadata.name,
          entities,
          dataSource,
          String(options.dataSource),
        );
      }
      const tableStatements = async (own: string): Promise<string[]> => {
        const statements: string[] = [];
        for (const table of options.tables) {
          if (typeof table === 'string') statements.push(table);
          else if (dataSource)
            statements.push(
              ...(await entityTableStatements(dataSource, [table], own)),
            );
        }
        return statements;
      };
      if (!Number.isInteger(options.version) || options.version < 1) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" has version ${String(options.version)}: use a whole number, 1 or more.`,
        );
      }
      if (
        !Array.isArray(options.documents) ||
        options.documents.some(
          (d) =>
            typeof d !== 'function' &&
            (typeof d !== 'object' || d === null || !('name' in d)),
        )
      ) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" declares documents that are neither @Document classes nor { name, indexes, text } declarations: give documents as an array of them.`,
        );
      }
      const owns =
        options.tables.length > 0 ||
        options.documents.length > 0 ||
        options.schema !== undefined;
      if (!owns && options.version !== 1) {
        throw new ConsumerDefinitionError(
          `Consumer "${metadata.name}" has version ${options.version} but declares no tables: a version rebuilds the consumer's declared tables and documents beside the live ones; declare them with tables: ['CREATE TABLE ...'] or documents: [SomeDocument].`,
        );
      }
      const schemaOf = (version: number) =>
        consumerSchemaName(metadata.name, {
          ...tables,
          schema: options.schema,
          version,
        });
      const ownSchema = owns ? schemaOf(options.version) : undefined;
      found.set(metadata.name, {
        name: metadata.name,
        className: type.name,
        options,
        types: [...handlers.keys()],
        handlers,
        resetHooks,
        ...transactions,
        ...(ownSchema && {
          schema: ownSchema,
          schemaOf,
          tableStatements,
          opener: openerInSchema(transactions.opener, ownSchema),
        }),
      });
    }
    const bySchema = new Map<string, string>();
    for (const { name, schema: own } of found.values()) {
      if (!own) continue;
      const other = bySchema.get(own);
      if (other) {
        throw new ConsumerDefinitionError(
          `Consumers "${other}" and "${name}" both keep their tables in schema "${own}": a reset of one would empty the other's. Give each its own schema option.`,
        );
      }
      bySchema.set(own, name);
    }
    return [...found.values()];
  }

  /** The app's @nestjs/typeorm DataSources on PostgreSQL, by name. */
  /**
   * Whether the event's user may not have this handler run (`@RequiresUser`,
   * `@RequiresRole` on the consumer or the event class). A refused event is
   * passed over by this handler, for good (a retry would be refused again):
   * logged and reported as an error message, and the consumer goes on.
   */
  private refused(
    rule: NonNullable<ReturnType<AccessCheck['ruleFor']>>,
    envelope: Envelope,
    handler: string,
  ): boolean {
    try {
      this.access?.enforce(rule, envelope.metadata, envelope.type);
      return false;
    } catch (error) {
      if (!isAccessRefusal(error)) throw error;
      this.access?.logRefusal(
        error,
        `${envelope.type} event ${envelope.id} for ${handler}`,
      );
      this.failures?.report({
        kind: 'event',
        messageId: envelope.id,
        messageType: envelope.type,
        metadata: envelope.metadata,
        handler,
        error,
        attempt: 1,
        next: 'skipped',
      });
      return true;
    }
  }

  private dataSources(): Map<string, DataSource> {
    const byName = new Map<string, DataSource>();
    for (const wrapper of this.discovery.getProviders()) {
      if (!isPostgresDataSource(wrapper.instance)) continue;
      // @nestjs/typeorm's tokens: the DataSource class for the default one, `${name}DataSource` for others.
      const token: unknown = wrapper.token;
      if (typeof token === 'function' && token.name === 'DataSource')
        byName.set('default', wrapper.instance);
      else if (typeof token === 'string' && token.endsWith('DataSource'))
        byName.set(token.slice(0, -'DataSource'.length), wrapper.instance);
    }
    return byName;
  }

  /**
   * A consumer's transactions run on its DataSource when that DataSource
   * reaches Chronicle's tables (same database), so an EntityManager can share
   * them; otherwise on Chronicle's own connection.
   */
  private async transactionsFor(
    name: string | false,
    dataSources: Map<string, DataSource>,
    schema: StoreSchema,
  ): Promise<
    Pick<ConsumerDefinition, 'opener' | 'noEntityManager'> & {
      readonly dataSource?: DataSource;
    }
  > {
    const own = () => openClientTransaction(this.client);
    if (name === false)
      return { opener: own, noEntityManager: 'its dataSource option is false' };
    const dataSource = dataSources.get(name);
    if (!dataSource) {
      return {
        opener: own,
        noEntityManager: `the app has no @nestjs/typeorm DataSource named "${name}" on PostgreSQL`,
      };
    }
    const rows: { found: string | null }[] = await dataSource.query(
      'SELECT to_regclass($1)::text AS found',
      [schema.table('consumer_positions')],
    );
    if (!rows[0]?.found) {
      this.logger.warn(
        `The TypeORM DataSource "${name}" does not reach Chronicle's schema "${schema.name}": its consumers get at-least-once delivery for TypeORM writes.`,
      );
      return {
        opener: own,
        noEntityManager: `the DataSource "${name}" is not on Chronicle's database`,
      };
    }
    // On PGlite a DataSource that reaches Chronicle's tables is on its very
    // instance: the store's statements of a handler must join that session.
    const session =
      this.client instanceof PgliteSqlClient && !this.client.inTransaction
        ? this.client.database
        : undefined;
    return {
      opener: () => openTypeOrmTransaction(dataSource, session),
      dataSource,
    };
  }
}
