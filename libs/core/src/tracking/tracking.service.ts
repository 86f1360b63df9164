import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  AggregateRepository,
  type AggregateClass,
  type AggregateRoot,
} from '../aggregates/index.js';
import { FailureReporter, UnitOfWork } from '../handling/index.js';
import { EventUpcaster } from '../messages/index.js';
import {
  AppendSignal,
  EventStore,
  PostgresEventStore,
  SQL_CLIENT,
  StoreConfigurationError,
  runInAmbientTransaction,
  sqlStateOf,
  type SqlClient,
} from '../store/index.js';
import { Telemetry } from '../telemetry/index.js';
import { BatchTransaction } from './consumer-context.js';
import type { ConsumerDefinition } from './consumer-definition.js';
import { ConsumerExplorer } from './consumer-explorer.js';
import type { ConsumerReads } from './consumer-metrics.js';
import { countDeadLetters } from './dead-letters.js';
import type { ConsumerHealth, SegmentHealth } from './consumer-health.js';
import type {
  ResolvedTrackingOptions,
  TrackingSettings,
} from './consumer.options.js';
import {
  createConsumerTables,
  truncateConsumerTables,
} from './projection-tables.js';
import { ConsumerTracker } from './consumer-tracker.js';
import { logHold } from './log-hold.js';
import { segmentLags, takeReset } from './positions.js';
import {
  askedTarget,
  rewind,
  type AskedTarget,
  type ResetTarget,
} from './reset-target.js';
import type { TrackingEnvironment } from './segment-worker.js';
import {
  ConsumerNotFoundError,
  NoConsumerTablesError,
} from './tracking.errors.js';
import { TRACKING_OPTIONS } from './tracking.tokens.js';

/** A deadlock between a reset and a batch in flight: PostgreSQL undid one, try again. */
const DEADLOCK = '40P01';

/**
 * Runs this app's `@Consumer`s from application bootstrap to shutdown, and is
 * what you inject to operate them: `reset` (replay), `health`, and
 * `replayAggregate` (an aggregate as it stood at a point in the past).
 */
@Injectable()
export class TrackingService
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger('ChronicleTracking');
  private readonly definitions = new Map<string, ConsumerDefinition>();
  private readonly trackers = new Map<string, ConsumerTracker>();
  private readonly options: ResolvedTrackingOptions;
  private unsubscribe?: () => void;
  private environment?: TrackingEnvironment;

  constructor(
    private readonly explorer: ConsumerExplorer,
    private readonly store: EventStore,
    @Inject(SQL_CLIENT) private readonly client: SqlClient,
    private readonly signal: AppendSignal,
    private readonly unitOfWork: UnitOfWork,
    private readonly upcaster: EventUpcaster,
    @Inject(TRACKING_OPTIONS) options: TrackingSettings,
    @Optional() private readonly telemetry?: Telemetry,
    @Optional() private readonly failures?: FailureReporter,
  ) {
    this.options = {
      enabled: options.enabled ?? true,
      leaseMs: options.leaseMs ?? 10_000,
      pollIntervalMs: options.pollIntervalMs ?? 100,
      maxPollIntervalMs: options.maxPollIntervalMs ?? 2_000,
      instanceId:
        options.instanceId ??
        `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
      schemaPrefix: options.schemaPrefix ?? '',
      projectionSchema: options.projectionSchema ?? '',
    };
  }

  /** This instance's name in `consumer_positions.owner`. */
  get instanceId(): string {
    return this.options.instanceId;
  }

  /**
   * The schema of a consumer's declared tables, for the query side's reads
   * (see `ProjectionTables`). Throws for a consumer that declares none.
   */
  schemaOf(consumer: string): string {
    const definition = this.definition(consumer);
    if (!definition.schema) throw new NoConsumerTablesError(consumer);
    return definition.schema;
  }

  /** The consumers this app declares. */
  get consumers(): readonly string[] {
    return [...this.definitions.keys()];
  }

  /** What each consumer reads (for its lag gauges). */
  reads(): ConsumerReads[] {
    return [...this.definitions.values()].map((d) => ({
      consumer: d.name,
      types: d.types,
    }));
  }

  async onApplicationBootstrap(): Promise<void> {
    const env = this.env();
    const found = await this.explorer.explore(env.schema, {
      projectionSchema:
        this.options.projectionSchema || `${env.schema.name}_projections`,
      prefix: this.options.schemaPrefix,
    });
    for (const definition of found) {
      this.definitions.set(definition.name, definition);
    }
    // Even a process that runs no consumers reads their tables: make them.
    for (const { schema, options } of this.definitions.values()) {
      if (schema)
        await createConsumerTables(this.client, schema, options.tables);
    }
    if (!this.options.enabled || this.definitions.size === 0) return;
    for (const definition of this.definitions.values()) {
      this.trackers.set(
        definition.name,
        new ConsumerTracker(definition, env, (to) =>
          this.resetTo(definition, to, true),
        ),
      );
    }
    // The fast path: a commit wakes at once the segments that read its types.
    this.unsubscribe = this.signal.subscribe((types) => {
      for (const tracker of this.trackers.values()) tracker.wake(types);
    });
    await Promise.all([...this.trackers.values()].map((t) => t.start()));
  }

  /** Earliest shutdown hook: batches finish while handlers' dependencies are still up. */
  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.trackers.values()].map((t) => t.stop()));
    this.trackers.clear();
  }

  /**
   * Rewinds a consumer so that it handles events again from `to`: its
   * `@OnReset` hooks and the rewind of every segment commit in one
   * transaction, then its segments carry on from there. Instances elsewhere
   * notice at their next position update.
   */
  async reset(consumer: string, options: { to: ResetTarget }): Promise<void> {
    const definition = this.definition(consumer);
    await this.resetTo(definition, askedTarget(options.to), false);
  }

  /**
   * Per consumer and segment: position against the head, lag in events and
   * in seconds, owner, last error; per consumer its dead letters; and what
   * holds the log back. Three statements, and two per consumer.
   */
  async health(consumer?: string): Promise<ConsumerHealth[]> {
    const env = this.env();
    const names = consumer ? [this.definition(consumer).name] : this.consumers;
    const head = await this.store.headCheckpoint();
    const heldBack = await logHold(this.client, env.schema);
    const report: ConsumerHealth[] = [];
    for (const name of names) {
      const definition = this.definition(name);
      const tracker = this.trackers.get(name);
      const rows = await segmentLags(
        this.client,
        env.schema,
        name,
        definition.types,
      );
      const now = Date.now();
      const segments = rows.map((row): SegmentHealth => {
        const local = tracker?.workers.get(row.segment);
        const held =
          row.owner !== null &&
          row.leaseExpiresAt !== null &&
          row.leaseExpiresAt.getTime() > now;
        const stopped = local ? local.status === 'stopped' : row.stopped;
        const localError = local?.lastError;
        return {
          segment: row.segment,
          // The row: what `behind` counts from (a worker's copy follows it after commit).
          checkpoint: row.checkpoint,
          behind: row.behind,
          readableBehind: row.readableBehind,
          lagSeconds: row.lagSeconds,
          checkpointMovedAt: row.checkpointMovedAt,
          checkpointIdleSeconds: row.checkpointIdleSeconds,
          owner: row.owner,
          leaseExpiresAt: row.leaseExpiresAt,
          heldHere: row.owner === this.options.instanceId,
          status: stopped ? 'stopped' : held ? 'running' : 'unclaimed',
          lastError: localError
            ? localError
            : row.lastError && row.lastErrorAt
              ? { message: row.lastError, at: row.lastErrorAt }
              : null,
        };
      });
      report.push({
        consumer: name,
        head,
        healthy: segments.every((s) => s.status !== 'stopped'),
        segments,
        deadLetters: await countDeadLetters(this.client, env.schema, name),
        heldBack,
      });
    }
    return report;
  }

  /** An aggregate as it stood at a position of the log or a moment in time. */
  replayAggregate<T extends AggregateRoot>(
    type: AggregateClass<T>,
    id: string,
    options: { until: bigint | number | Date },
  ): Promise<T> {
    const repository = new AggregateRepository(
      type,
      this.store,
      this.unitOfWork,
      {
        upcaster: this.upcaster,
      },
    );
    return repository.load(id, { until: options.until });
  }

  private definition(name: string): ConsumerDefinition {
    const definition = this.definitions.get(name);
    if (!definition) throw new ConsumerNotFoundError(name, this.consumers);
    return definition;
  }

  /**
   * The reset's transaction: take any pending request, rewind (resolved and
   * capped at the safe horizon in one statement), run the `@OnReset` hooks.
   * `requested`: apply the stored request, if another instance has not.
   */
  private async resetTo(
    definition: ConsumerDefinition,
    target: AskedTarget,
    requested: boolean,
  ): Promise<void> {
    const tracker = this.trackers.get(definition.name);
    await tracker?.pause();
    try {
      for (let attempt = 1; ; attempt++) {
        const tx = new BatchTransaction(
          definition.opener,
          definition.name,
          definition.noEntityManager,
        );
        try {
          await this.rewindInTransaction(definition, tx, target, requested);
          return;
        } catch (error) {
          await tx.rollback();
          if (sqlStateOf(error) !== DEADLOCK || attempt >= 3) throw error;
        }
      }
    } finally {
      await tracker?.resume();
    }
  }

  private async rewindInTransaction(
    definition: ConsumerDefinition,
    tx: BatchTransaction,
    target: AskedTarget,
    requested: boolean,
  ): Promise<void> {
    const { schema } = this.env();
    const { sql } = await tx.transaction();
    const taken = await takeReset(sql, schema, definition.name);
    if (requested && !taken) return tx.rollback(); // another instance applied it
    // Rewind first: it locks the positions, so batches in flight wait for us.
    const to = await rewind(
      sql,
      schema,
      definition.name,
      requested && taken ? taken : target,
    );
    // Back to the very start: the declared tables hold nothing the replay keeps.
    if (definition.schema && to.position === 0n) {
      await truncateConsumerTables(sql, definition.schema);
    }
    const context = tx.context(-1);
    await runInAmbientTransaction(tx, async () => {
      for (const hook of definition.resetHooks) await hook(context);
    });
    await tx.commit();
    this.logger.log(
      `Consumer "${definition.name}" reset to position ${to.position}`,
    );
  }

  private env(): TrackingEnvironment {
    if (this.environment) return this.environment;
    if (!(this.store instanceof PostgresEventStore)) {
      throw new StoreConfigurationError(
        'Consumers need the PostgreSQL event store (PostgreSQL or PGlite); this EventStore is another kind.',
      );
    }
    this.environment = {
      store: this.store,
      upcaster: this.upcaster,
      client: this.client,
      schema: this.store.schema,
      owner: this.options.instanceId,
      options: this.options,
      logger: this.logger,
      telemetry: this.telemetry,
      failures: this.failures,
    };
    return this.environment;
  }
}
