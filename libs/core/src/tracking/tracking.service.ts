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
import {
  FailureReporter,
  MessageGateway,
  UnitOfWork,
} from '../handling/index.js';
import { Scheduler } from '../scheduling/index.js';
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
  type StoreSchema,
} from '../store/index.js';
import { Telemetry } from '../telemetry/index.js';
import { BatchTransaction, type ContextSending } from './consumer-context.js';
import type { ConsumerDefinition } from './consumer-definition.js';
import { ConsumerExplorer } from './consumer-explorer.js';
import type { ConsumerReads } from './consumer-metrics.js';
import { countDeadLetters } from './dead-letters.js';
import type {
  ConsumerHealth,
  SegmentHealth,
  VersionHealth,
} from './consumer-health.js';
import {
  dropRetired,
  liveCheckpoint,
  liveSchema,
  readVersions,
  registerVersion,
  switchVersion,
  trackedName,
  type VersionRow,
  type VersionStatus,
} from './consumer-versions.js';
import { countParked, unparkAfter } from './parked-streams.js';
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
  ConsumerDefinitionError,
  ConsumerNotFoundError,
  NoConsumerTablesError,
} from './tracking.errors.js';
import { CONSUMER_COLLECTIONS, TRACKING_OPTIONS } from './tracking.tokens.js';
import type { ConsumerCollections } from './consumer-collections.js';

/** A consumer's parked streams and events, for its health. */
async function parkedOf(
  client: SqlClient,
  schema: StoreSchema,
  consumer: string,
): Promise<{ parkedStreams: number; parkedEvents: number }> {
  const parked = (await countParked(client, schema, [consumer])).get(consumer);
  return {
    parkedStreams: parked?.streams ?? 0,
    parkedEvents: parked?.events ?? 0,
  };
}

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
  /** Where this app's version of each consumer that declares tables stands. */
  private readonly versions = new Map<string, VersionState>();
  private versionTimer?: NodeJS.Timeout;
  private versionTick?: Promise<void>;
  private watching = false;

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
    @Optional() private readonly gateway?: MessageGateway,
    @Optional() private readonly scheduler?: Scheduler,
    @Optional()
    @Inject(CONSUMER_COLLECTIONS)
    private readonly collections?: ConsumerCollections,
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
      retiredSchemaGraceMs: options.retiredSchemaGraceMs ?? 3_600_000,
      projectionSchema: options.projectionSchema ?? '',
    };
  }

  /** This instance's name in `consumer_positions.owner`. */
  get instanceId(): string {
    return this.options.instanceId;
  }

  /**
   * The schema of a consumer's declared tables that reads go to: its live
   * version's (see `ProjectionTables`). Throws for a consumer that declares none.
   */
  async schemaOf(consumer: string): Promise<string> {
    const definition = this.definition(consumer);
    if (!definition.schema) throw new NoConsumerTablesError(consumer);
    const live = await liveSchema(this.client, this.env().schema, consumer);
    return live ?? definition.schema;
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
    for (const declared of found) {
      const definition = await this.versioned(declared);
      this.definitions.set(declared.name, definition);
      // Even a process that runs no consumers reads their tables: make them.
      const retired = this.status(declared.name) === 'retired';
      if (definition.schema && !retired) {
        await createConsumerTables(
          this.client,
          definition.schema,
          (await definition.tableStatements?.(definition.schema)) ?? [],
        );
      }
      const { documents } = definition.options;
      if (documents.length > 0) {
        if (!this.collections) {
          throw new ConsumerDefinitionError(
            `Consumer "${declared.name}" fills document collections, but this app has no Documents to keep them: import ChronicleModule.forRoot in the app.`,
          );
        }
        // Reads follow the live version; this version's handlers write its own.
        await this.collections.adopt(declared.name, documents, {
          own: retired ? undefined : definition.schema,
          live: () => this.schemaOf(declared.name),
        });
      }
    }
    if (!this.options.enabled || this.definitions.size === 0) return;
    for (const [name, definition] of this.definitions) {
      if (this.status(name) === 'retired') {
        this.logger.warn(
          `Consumer "${name}" version ${definition.options.version} is older than the live version: this instance does not run it.`,
        );
        continue;
      }
      this.trackers.set(
        name,
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
    if (this.versions.size > 0) this.watchVersions();
  }

  /** Earliest shutdown hook: batches finish while handlers' dependencies are still up. */
  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    this.watching = false;
    clearTimeout(this.versionTimer);
    await this.versionTick;
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
   * holds the log back. Three statements, and three per consumer.
   */
  async health(consumer?: string): Promise<ConsumerHealth[]> {
    const env = this.env();
    const names = consumer
      ? [this.declaredName(this.definition(consumer))]
      : this.consumers;
    const head = await this.store.headCheckpoint();
    const heldBack = await logHold(this.client, env.schema);
    const report: ConsumerHealth[] = [];
    for (const name of names) {
      const definition = this.definition(name);
      const tracker = this.trackers.get(name);
      const rows = await segmentLags(
        this.client,
        env.schema,
        definition.name,
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
      const version = this.versions.get(name);
      report.push({
        consumer: name,
        head,
        healthy: segments.every((s) => s.status !== 'stopped'),
        segments,
        deadLetters: await countDeadLetters(
          this.client,
          env.schema,
          definition.name,
        ),
        ...(await parkedOf(this.client, env.schema, definition.name)),
        heldBack,
        ...(version && {
          version: await this.versionHealth(definition, version, segments),
        }),
      });
    }
    return report;
  }

  /** The consumer versions this app is rebuilding beside their live version, with their progress. */
  async rebuilds(): Promise<
    {
      consumer: string;
      version: number;
      eventsDone: number;
      eventsTotal: number;
      eventsPerSecond: number;
    }[]
  > {
    const building = [...this.versions]
      .filter(([, state]) => state.status === 'building')
      .map(([name]) => name);
    const report = [];
    for (const name of building) {
      const [health] = await this.health(name);
      const rebuild = health.version?.rebuild;
      if (!health.version || !rebuild) continue;
      report.push({
        consumer: name,
        version: health.version.version,
        eventsDone: rebuild.eventsDone,
        eventsTotal: rebuild.eventsTotal,
        eventsPerSecond: rebuild.eventsPerSecond,
      });
    }
    return report;
  }

  /** Asks the segments of `consumer` this instance runs to look for retry requests now. */
  wakeForRetry(consumer: string): void {
    this.trackers.get(consumer)?.wakeForRetry();
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
    const tracker = this.trackers.get(definition.consumer ?? definition.name);
    await tracker?.pause();
    try {
      for (let attempt = 1; ; attempt++) {
        const tx = new BatchTransaction(
          definition.opener,
          definition.consumer ?? definition.name,
          definition.noEntityManager,
          this.env().sending,
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
    // The replay meets the parked events past its start again, in order.
    await unparkAfter(sql, schema, definition.name, to);
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

  private declaredName(definition: ConsumerDefinition): string {
    return definition.consumer ?? definition.name;
  }

  private status(consumer: string): VersionStatus | undefined {
    return this.versions.get(consumer)?.status;
  }

  /**
   * A consumer that declares tables, registered at its version: from version
   * 2 on, its positions are kept under `<name>@v<n>`, and while it is being
   * built beside the live version its segments know which events are history.
   */
  private async versioned(
    definition: ConsumerDefinition,
  ): Promise<ConsumerDefinition> {
    const { schemaOf } = definition;
    if (!definition.schema || !schemaOf) return definition;
    const { schema } = this.env();
    const { version } = definition.options;
    const rows = await registerVersion(
      this.client,
      schema,
      definition.name,
      version,
      schemaOf,
    );
    const recorded = rows.find((row) => row.version === version);
    if (recorded && recorded.schema !== definition.schema) {
      // Its positions say done, and the new schema's tables would be empty.
      throw new ConsumerDefinitionError(
        `Consumer "${definition.name}" version ${version} keeps its tables in schema "${recorded.schema}", and now asks for "${definition.schema}" (its schema option, or the projection schema, changed): raise its version to rebuild the tables there, or keep the schema.`,
      );
    }
    const state = new VersionState(version);
    state.update(rows);
    this.versions.set(definition.name, state);
    return {
      ...definition,
      name: trackedName(definition.name, version),
      consumer: definition.name,
      replay: {
        horizon: async () =>
          state.status === 'building' && state.liveVersion !== null
            ? liveCheckpoint(
                this.client,
                schema,
                trackedName(definition.name, state.liveVersion),
              )
            : undefined,
      },
    };
  }

  /** Checks the versions every poll interval, one check at a time. */
  private watchVersions(): void {
    this.watching = true;
    const next = () => {
      if (!this.watching) return;
      this.versionTimer = setTimeout(() => {
        this.versionTick = this.checkVersions()
          .catch((error: unknown) =>
            this.logger.warn(
              `Could not check consumer versions: ${error instanceof Error ? error.message : String(error)}`,
            ),
          )
          .finally(next);
      }, this.options.maxPollIntervalMs);
    };
    next();
  }

  /**
   * A building version that reached the head (every segment has nothing
   * readable left) becomes live; a live one that another instance replaced
   * stops here; retired schemas past their grace period are dropped.
   */
  private async checkVersions(): Promise<void> {
    const { schema } = this.env();
    for (const [consumer, state] of this.versions) {
      if (!this.watching) return;
      const definition = this.definition(consumer);
      if (state.status === 'building') {
        const lags = await segmentLags(
          this.client,
          schema,
          definition.name,
          definition.types,
        );
        const caughtUp =
          lags.length === definition.options.segments &&
          lags.every((lag) => lag.readableBehind === 0);
        if (
          caughtUp &&
          (await switchVersion(
            this.client,
            schema,
            consumer,
            state.version,
            this.options.retiredSchemaGraceMs,
          ))
        ) {
          this.logger.log(
            `Consumer "${consumer}" version ${state.version} caught up: reads switched to it.`,
          );
        }
      }
      state.update(await readVersions(this.client, schema, consumer));
      if (state.status === 'retired') {
        const tracker = this.trackers.get(consumer);
        if (tracker) {
          this.trackers.delete(consumer);
          await tracker.stop();
          this.logger.log(
            `Consumer "${consumer}" version ${state.version} was replaced by version ${state.liveVersion}: stopped here.`,
          );
        }
      }
      const dropped = await dropRetired(this.client, schema, consumer);
      for (const name of dropped) {
        this.logger.log(
          `Consumer "${consumer}": dropped the schema "${name}" of a replaced version.`,
        );
      }
    }
  }

  private async versionHealth(
    definition: ConsumerDefinition,
    state: VersionState,
    segments: readonly SegmentHealth[],
  ): Promise<VersionHealth> {
    if (state.status !== 'building') {
      return {
        version: state.version,
        status: state.status,
        liveVersion: state.liveVersion,
        rebuild: null,
      };
    }
    const [row] = await this.client.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM ${this.env().schema.events}
       WHERE type IN (SELECT jsonb_array_elements_text($1::text::jsonb))
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
      [JSON.stringify(definition.types)],
    );
    const total = Number(row.total);
    const behind = segments.reduce((sum, s) => sum + s.readableBehind, 0);
    const done = Math.max(0, total - behind);
    const seconds = Math.max(
      0.001,
      (Date.now() - state.startedAt.getTime()) / 1000,
    );
    const rate = done / seconds;
    return {
      version: state.version,
      status: state.status,
      liveVersion: state.liveVersion,
      rebuild: {
        eventsDone: done,
        eventsTotal: total,
        eventsPerSecond: Math.round(rate * 10) / 10,
        secondsLeft: rate > 0 ? Math.round((total - done) / rate) : null,
        startedAt: state.startedAt,
      },
    };
  }

  /** The app's gateway and scheduler, for consumers' contexts. */
  private sending(): ContextSending | undefined {
    const { gateway, scheduler } = this;
    if (!gateway || !scheduler) return undefined;
    return {
      send: (command, options) => gateway.send(command, options),
      schedule: (message, when, options) =>
        scheduler.schedule(message, when, options),
    };
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
      sending: this.sending(),
    };
    return this.environment;
  }
}

/** This app's version of one consumer, as last read from `consumer_versions`. */
class VersionState {
  status: VersionStatus = 'building';
  liveVersion: number | null = null;
  startedAt = new Date();

  constructor(readonly version: number) {}

  update(rows: readonly VersionRow[]): void {
    const mine = rows.find((row) => row.version === this.version);
    if (mine) {
      this.status = mine.status;
      this.startedAt = mine.createdAt;
    }
    this.liveVersion =
      rows.find((row) => row.status === 'live')?.version ?? null;
  }
}
