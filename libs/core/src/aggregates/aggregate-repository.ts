import { Logger } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import type { UnitOfWork } from '../handling/index.js';
import {
  checkId,
  eventInstanceOf,
  EventUpcaster,
  type PayloadReader,
} from '../messages/index.js';
import {
  ConcurrencyError,
  replayBatchesOf,
  type ReplayedEvent,
  type EventStore,
  type StoredEvent,
} from '../store/index.js';
import { ATTR, inSpan, secondsSince, Telemetry } from '../telemetry/index.js';
import {
  aggregateInternals,
  type AggregateRoot,
  type Evolve,
} from './aggregate-root.js';
import {
  aggregateDefinitionOf,
  type AggregateDefinition,
} from './aggregate.decorators.js';
import {
  AggregateNotFoundError,
  NotAnAggregateError,
} from './aggregate.errors.js';
import { AggregateCache } from './cache/aggregate-cache.js';
import type { SnapshotWriter } from './snapshots/snapshot-writer.js';

/** An aggregate class: constructed without arguments, then rebuilt from its events. */
export type AggregateClass<T extends AggregateRoot> = new () => T;

export interface LoadOptions {
  /** Rebuild the aggregate as it stood at this stream version (time travel). */
  readonly atVersion?: number;
  /**
   * Rebuild it as it stood at this point of the log: only its events at or
   * before this global position, or stored at or before this time.
   */
  readonly until?: bigint | number | Date;
}

/** What a repository uses besides the store; `ChronicleModule` provides them all. */
export interface AggregateRepositoryServices {
  /** Brings stored events to the revisions the code declares. Default: none registered. */
  readonly upcaster?: EventUpcaster;
  /** This process's aggregate cache. Default: none. */
  readonly cache?: AggregateCache;
  /** Reads and writes snapshots. Default: none, whatever `snapshotEvery` says. */
  readonly snapshots?: SnapshotWriter;
  /** Metrics of loads. Default: off. */
  readonly telemetry?: Telemetry;
}

/** How a load replays one stored type and revision that needs no upcasting. */
interface ReplayPlan {
  readonly read: PayloadReader;
  readonly evolve: Evolve | undefined;
}

/** Span attribute: where a load's state started (cache, snapshot, events). */
const SOURCE = 'chronicle.aggregate.load_source';

/** Where a load starts: a fresh aggregate, a cached state or a snapshot. */
interface Start<T> {
  readonly aggregate: T;
  readonly snapshotVersion: number;
  /** For `chronicle_aggregate_loads_total`. */
  readonly source: 'cache' | 'snapshot' | 'events';
}

/**
 * Loads aggregates of one type from their streams and saves what they did.
 * Inject it with `@InjectAggregateRepository(Order)` after listing the class
 * in `ChronicleModule.forFeature([Order])`.
 *
 * A load starts from the newest of: this process's cached state of the
 * aggregate, its newest snapshot of the current `snapshotRevision`, or
 * nothing; then it reads and applies only the events after that version,
 * each through the app's upcasters.
 */
export class AggregateRepository<T extends AggregateRoot> {
  /** The aggregate's type name, the prefix of its stream ids. */
  readonly aggregateType: string;
  private readonly definition: AggregateDefinition;
  private readonly upcaster: EventUpcaster;
  private readonly cache: AggregateCache;
  private readonly snapshots?: SnapshotWriter;
  private readonly telemetry: Telemetry;
  private readonly logger = new Logger('Chronicle aggregates');
  /** The snapshot version each loaded instance started from (for the policy). */
  private readonly snapshotVersions = new WeakMap<T, number>();

  constructor(
    private readonly target: AggregateClass<T>,
    private readonly store: EventStore,
    /** `undefined` makes a read-only repository (scripts, the CLI): `save` refuses. */
    private readonly unitOfWork: UnitOfWork | undefined,
    services: AggregateRepositoryServices = {},
  ) {
    const definition = aggregateDefinitionOf(target);
    if (!definition) throw new NotAnAggregateError(target.name);
    this.definition = definition;
    this.aggregateType = definition.type;
    this.upcaster = services.upcaster ?? new EventUpcaster();
    this.cache = services.cache ?? new AggregateCache({ maxEntries: 0 });
    this.telemetry = services.telemetry ?? Telemetry.off;
    this.snapshots =
      definition.snapshotPolicy && services.snapshots?.enabled
        ? services.snapshots
        : undefined;
  }

  /** The stream that holds the aggregate with this id. */
  streamId(id: string): string {
    checkId(id, `${this.aggregateType} id`);
    return `${this.aggregateType}-${id}`;
  }

  /** Rebuilds an aggregate from its stream; `AggregateNotFoundError` if it has none. */
  async load(id: string, options: LoadOptions = {}): Promise<T> {
    const aggregate = await this.find(id, options);
    if (!aggregate) throw new AggregateNotFoundError(this.aggregateType, id);
    return aggregate;
  }

  /**
   * Rebuilds an aggregate from its stream, or `undefined` if it has none.
   *
   * In a command, every load of one aggregate (`load`, `find`,
   * `loadOrCreate`) returns the same instance, with the events it applied
   * since: a second decision sees the first. The first load also makes the
   * other commands of this process on that aggregate wait until this one has
   * committed or failed. Loads at a past version or point of the log are
   * never shared.
   */
  async find(id: string, options: LoadOptions = {}): Promise<T | undefined> {
    const aggregate = await this.instance(id, options);
    return aggregate.version > 0 || aggregate.uncommittedEvents.length > 0
      ? aggregate
      : undefined;
  }

  /** Loads the aggregate, or a new one with that id when its stream is empty. */
  async loadOrCreate(id: string): Promise<T> {
    return this.instance(id, {});
  }

  /** The command's instance of the aggregate, or (time travel, outside commands) a fresh one. */
  private instance(id: string, options: LoadOptions): Promise<T> {
    const shared =
      this.unitOfWork !== undefined &&
      options.atVersion === undefined &&
      options.until === undefined;
    if (!shared) return this.read(id, options);
    return this.unitOfWork.track(this.streamId(id), () => this.read(id, {}));
  }

  /** A load from the store, in a span `load <Aggregate>`, counted and timed. */
  private read(id: string, options: LoadOptions): Promise<T> {
    const streamId = this.streamId(id);
    const attributes = {
      [ATTR.aggregate]: this.aggregateType,
      [ATTR.streamId]: streamId,
      [ATTR.dbSystem]: 'postgresql',
      [ATTR.dbOperation]: 'load',
    };
    return inSpan(
      `load ${this.aggregateType}`,
      { kind: SpanKind.INTERNAL, attributes },
      async (span) => {
        const start = performance.now();
        const loaded = await this.readStream(streamId, id, options);
        span.setAttribute(ATTR.eventsRead, loaded.read);
        span.setAttribute(SOURCE, loaded.source);
        this.telemetry.metrics?.loaded(
          this.aggregateType,
          loaded.source,
          loaded.read,
          secondsSince(start),
        );
        return loaded.aggregate;
      },
    );
  }

  /** Rebuilds an aggregate from its stream: at version 0 when it has none. */
  private async readStream(
    streamId: string,
    id: string,
    options: LoadOptions,
  ): Promise<{ aggregate: T; read: number; source: Start<T>['source'] }> {
    const atVersion = options.atVersion;
    const until = options.until;
    // Time travel by position or date cannot trust a cache or snapshot from later on.
    const start =
      until === undefined
        ? await this.start(id, streamId, atVersion)
        : {
            aggregate: this.create(id),
            snapshotVersion: 0,
            source: 'events' as const,
          };
    const aggregate = start.aggregate;
    const source = start.source;
    let read = 0;
    if (atVersion === undefined || aggregate.version < atVersion) {
      const stream = this.store.readStream(streamId, {
        fromVersion: aggregate.version + 1,
        toVersion: atVersion,
      });
      read = await this.replay(aggregate, stream, until);
    }
    if (aggregate.version === 0) return { aggregate, read, source };
    this.snapshotVersions.set(aggregate, start.snapshotVersion);
    if (read > 0 && atVersion === undefined) {
      this.remember(streamId, aggregate, start.snapshotVersion);
    }
    return { aggregate, read, source };
  }

  /**
   * Applies a stream's events to the aggregate, a batch at a time; returns
   * how many stored events it read. How to rebuild and apply each type and
   * revision is decided once per load: straight from the payload when no
   * upcaster covers it, else through the upcaster, event by event.
   */
  private async replay(
    aggregate: T,
    stream: AsyncIterable<StoredEvent>,
    until: LoadOptions['until'],
  ): Promise<number> {
    const plans = new Map<string, (ReplayPlan | null)[]>();
    let untilPosition: bigint | undefined;
    let read = 0;
    // Only events an upcaster may see are read whole (with their metadata).
    const fields = {
      wholeTypes: this.upcaster.sourceTypes(),
      timestamps: until instanceof Date,
    };
    for await (const batch of replayBatchesOf(stream, fields)) {
      for (const stored of batch) {
        // A stream's positions and timestamps grow with its versions: stop at the first one past.
        if (
          until instanceof Date
            ? (stored.timestamp as Date) > until
            : until !== undefined &&
              stored.position > (untilPosition ??= BigInt(until))
        ) {
          return read;
        }
        const plan = this.planOf(plans, aggregate, stored);
        if (plan) {
          plan.evolve?.call(aggregate, plan.read(stored.payload));
        } else if (stored.id === undefined) {
          // Not read whole, so no upcaster covers it: it cannot be read as it is.
          this.upcaster.checkReadable(stored);
          throw new Error(
            `Internal: ${stored.type} revision ${stored.revision} was read in part but needs upcasting`,
          );
        } else {
          for (const event of this.upcaster.upcastOne(stored)) {
            aggregateInternals.replay(
              aggregate,
              event.type,
              this.rebuild(event),
            );
          }
        }
        // The stream version, not a count: upcasters may split or drop events.
        aggregateInternals.setVersion(aggregate, stored.streamVersion);
        read++;
      }
    }
    return read;
  }

  /** The direct way to replay events of this type and revision, or `null`: through the upcaster. */
  private planOf(
    plans: Map<string, (ReplayPlan | null)[]>,
    aggregate: T,
    stored: ReplayedEvent,
  ): ReplayPlan | null {
    let byRevision = plans.get(stored.type);
    if (!byRevision) {
      byRevision = [];
      plans.set(stored.type, byRevision);
    }
    let plan = byRevision[stored.revision];
    if (plan === undefined) {
      const read = this.upcaster.directReaderOf(stored.type, stored.revision);
      plan = read
        ? { read, evolve: aggregateInternals.evolverOf(aggregate, stored.type) }
        : null;
      byRevision[stored.revision] = plan;
    }
    return plan;
  }

  /** A new, empty aggregate with this id; saving it requires that its stream does not exist yet. */
  create(id: string): T {
    if (typeof id !== 'string' || id.length === 0) {
      throw new TypeError(
        `An ${this.aggregateType} id must be a non-empty string`,
      );
    }
    const aggregate = new this.target();
    aggregateInternals.setId(aggregate, id);
    return aggregate;
  }

  /**
   * Stores the events the aggregate applied since it was loaded, expecting its
   * stream to be still at the loaded version. In a command handler they are
   * written when the handler returns, with the command; elsewhere, at once.
   * After the commit, the new state is cached and, when the snapshot policy
   * says so, snapshotted in the background.
   */
  async save(aggregate: T): Promise<void> {
    const unitOfWork = this.unitOfWork;
    if (!unitOfWork) {
      throw new TypeError(
        `This ${this.aggregateType} repository is read-only: inject one from ChronicleModule to save`,
      );
    }
    const loadedVersion = aggregate.version;
    const expected = loadedVersion === 0 ? 'noStream' : loadedVersion;
    const events = aggregateInternals.takeUncommitted(aggregate);
    if (events.length === 0) return;
    const streamId = this.streamId(aggregate.id);
    const savedVersion = loadedVersion + events.length;
    const failed = (error: unknown): void => {
      // Someone else wrote first: forget what we had loaded (a newer state
      // cached meanwhile by a winner in this process stays).
      if (error instanceof ConcurrencyError && error.streamId === streamId) {
        this.cache.delete(streamId, loadedVersion);
      }
    };
    const committed = (): void =>
      this.committed(aggregate, streamId, loadedVersion, savedVersion);
    if (unitOfWork.active) {
      unitOfWork.afterRollback(failed);
      unitOfWork.afterCommit(committed);
      await unitOfWork.append(streamId, events, expected);
      aggregateInternals.setVersion(aggregate, savedVersion);
      return;
    }
    try {
      await unitOfWork.append(streamId, events, expected);
    } catch (error) {
      failed(error);
      throw error;
    }
    aggregateInternals.setVersion(aggregate, savedVersion);
    committed();
  }

  /**
   * Stores a snapshot of the aggregate now, whatever the policy says, and
   * waits for it (maintenance, tests). It must have no unsaved events.
   */
  async snapshot(aggregate: T): Promise<void> {
    if (!this.snapshots) {
      throw new TypeError(
        `${this.aggregateType} takes no snapshots: give @Aggregate a snapshotEvery option`,
      );
    }
    if (aggregate.uncommittedEvents.length > 0 || aggregate.version === 0) {
      throw new TypeError(
        `Only a loaded ${this.aggregateType} without unsaved events can be snapshotted`,
      );
    }
    await this.snapshots.store.write({
      streamId: this.streamId(aggregate.id),
      version: aggregate.version,
      aggregateType: this.aggregateType,
      revision: this.definition.snapshotRevision,
      stateJson: JSON.stringify(aggregateInternals.capture(aggregate)),
    });
    this.snapshotVersions.set(aggregate, aggregate.version);
  }

  private async start(
    id: string,
    streamId: string,
    atVersion: number | undefined,
  ): Promise<Start<T>> {
    const cached = this.cache.enabled ? this.cache.get(streamId) : undefined;
    if (cached && (atVersion === undefined || cached.version <= atVersion)) {
      const aggregate = this.restore(
        id,
        () => JSON.parse(cached.stateJson) as unknown,
        cached.version,
        'cached state',
      );
      if (aggregate) {
        return {
          aggregate,
          snapshotVersion: cached.snapshotVersion,
          source: 'cache',
        };
      }
      this.cache.delete(streamId);
    }
    if (this.snapshots) {
      const snapshot = await this.snapshots.store
        .read(streamId, this.definition.snapshotRevision, atVersion)
        .catch((error: unknown) => {
          // A snapshot is a cache: without it the load replays the stream.
          this.logger.warn(
            `Could not read the snapshot of "${streamId}": ${error instanceof Error ? error.message : String(error)}`,
          );
          return undefined;
        });
      if (snapshot) {
        const aggregate = this.restore(
          id,
          () => snapshot.state,
          snapshot.version,
          'snapshot',
        );
        if (aggregate) {
          return {
            aggregate,
            snapshotVersion: snapshot.version,
            source: 'snapshot',
          };
        }
      }
    }
    return { aggregate: this.create(id), snapshotVersion: 0, source: 'events' };
  }

  /** A new aggregate with a saved state, or `undefined` (logged) when that state does not fit the class. */
  private restore(
    id: string,
    state: () => unknown,
    version: number,
    what: string,
  ): T | undefined {
    try {
      const aggregate = this.create(id);
      aggregateInternals.restore(aggregate, state());
      aggregateInternals.setVersion(aggregate, version);
      return aggregate;
    } catch (error) {
      this.logger.warn(
        `Ignoring the ${what} of ${this.aggregateType} "${id}" at version ${version}, which fromSnapshot() refused ` +
          `(${error instanceof Error ? error.message : String(error)}); replaying its events instead. ` +
          'Bump snapshotRevision when the state changes shape.',
      );
      return undefined;
    }
  }

  /** After a commit: cache the new state and, if the policy says so, snapshot it. */
  private committed(
    aggregate: T,
    streamId: string,
    previousVersion: number,
    version: number,
  ): void {
    // The handler went on changing it after saving: this is not the committed state.
    if (
      aggregate.version !== version ||
      aggregate.uncommittedEvents.length > 0
    ) {
      return;
    }
    const lastSnapshotVersion = this.snapshotVersions.get(aggregate) ?? 0;
    const snapshot =
      this.snapshots !== undefined &&
      this.definition.snapshotPolicy?.({
        aggregate,
        version,
        previousVersion,
        lastSnapshotVersion,
      }) === true;
    if (!snapshot && !this.cache.enabled) return;
    const stateJson = this.capture(aggregate);
    if (stateJson === undefined) return;
    const snapshotVersion = snapshot ? version : lastSnapshotVersion;
    if (snapshot) {
      this.snapshots?.schedule({
        streamId,
        version,
        aggregateType: this.aggregateType,
        revision: this.definition.snapshotRevision,
        stateJson,
      });
      this.snapshotVersions.set(aggregate, version);
    }
    this.cache.set(streamId, { version, stateJson, snapshotVersion });
  }

  /** Caches a freshly loaded state. */
  private remember(
    streamId: string,
    aggregate: T,
    snapshotVersion: number,
  ): void {
    if (!this.cache.enabled) return;
    const stateJson = this.capture(aggregate);
    if (stateJson === undefined) return;
    this.cache.set(streamId, {
      version: aggregate.version,
      stateJson,
      snapshotVersion,
    });
  }

  /** The state as JSON text, or `undefined` (logged): caching is never worth failing for. */
  private capture(aggregate: T): string | undefined {
    try {
      return JSON.stringify(aggregateInternals.capture(aggregate));
    } catch (error) {
      this.logger.warn(
        `Cannot serialize ${this.aggregateType} "${aggregate.id}" for the cache or a snapshot: ` +
          `${error instanceof Error ? error.message : String(error)}. Override toSnapshot().`,
      );
      return undefined;
    }
  }

  /** The event instance of an upcast stored event (whose type and revision the upcaster checked). */
  private rebuild(event: StoredEvent): object {
    return eventInstanceOf(event);
  }
}
