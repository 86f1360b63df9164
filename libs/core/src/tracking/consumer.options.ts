import type { StoredEvent } from '../store/index.js';
import type { ConsumerCollection } from './consumer-collections.js';
import type { ConsumerTable } from './entity-tables.js';

/** Where a consumer that has never run starts reading the log. */
export type StartFrom = 'beginning' | 'now';

/** A consumer's own ordering key of an event (see `ConsumerOptions.sequenceBy`). */
export type SequenceKey = (
  event: object,
  envelope: StoredEvent<object>,
) => string | undefined;

/** What happens to an event whose handler still fails after every retry. */
export type ErrorPolicy = 'stop' | 'skip' | 'park';

/**
 * When a batch's events run in savepoints. `'on-failure'`: the batch runs
 * without them; only when a handler fails is its transaction rolled back and
 * the batch run again event by event in savepoints, so the events before the
 * failing one run twice (their writes commit once). `'every-event'`: always
 * one savepoint per event, so a failure never runs an earlier event again
 * (two more round trips per event).
 */
export type SavepointMode = 'on-failure' | 'every-event';

/** The options of one `@Consumer`. */
export interface ConsumerOptions {
  /**
   * How many segments the log is split into for this consumer (by a stable
   * hash of the stream id). Instances share segments; each stream is handled
   * in order by one instance at a time. Default 1. Changing it later needs a
   * replay (see the guide).
   */
  readonly segments?: number;
  /**
   * What keeps this consumer's events in order, when their stream does not:
   * a key of each event (`(event) => event.customerId`). Events with one key
   * are handled in log order by one segment, whatever their streams; each
   * segment reads every event of the consumer's types and handles those whose
   * key hashes to it. An event without a key (undefined, or the function
   * throws) goes to segment 0, where its handler sees it. Default: the
   * stream. Fixed once the consumer has positions, like `segments`.
   */
  readonly sequenceBy?: SequenceKey;
  /**
   * What a start does that finds positions for another `segments` or
   * `sequenceBy` than declared. `'refuse'` (default): it throws
   * `ConsumerSegmentsChangedError`, as events would change segments and lose
   * their order. `'replay-from-oldest'`: when no other instance runs the
   * consumer and it holds no parked streams, every new segment starts at the
   * oldest checkpoint of the old ones, so some events come again: only for
   * handlers that pass over what they handled before (process managers do).
   */
  readonly onSegmentsChanged?: 'refuse' | 'replay-from-oldest';
  /** Events read and handled per transaction. Default 100. */
  readonly batchSize?: number;
  /** Where a consumer that has no stored position starts. Default `'beginning'`. */
  readonly startFrom?: StartFrom;
  /**
   * After `maxAttempts` failures of one event: `'stop'` the segment (it keeps
   * its lease and shows in health until a restart or reset; the default) or
   * `'skip'` it, recording it in `dead_letters` with the error, or `'park'`
   * its stream: the event and every later one of its stream wait, in order,
   * in `parked_events` while other streams flow on, until `DeadLetters`
   * retries or drops them (sequenced dead letters).
   */
  readonly onError?: ErrorPolicy;
  /** Tries per event before the policy applies. Default 5. */
  readonly maxAttempts?: number;
  /** The pause after the first failure, doubled after each next one (capped at 30 s). Default 200 ms. */
  readonly retryDelayMs?: number;
  /** See `SavepointMode`. Default `'on-failure'`. */
  readonly savepoints?: SavepointMode;
  /**
   * The @nestjs/typeorm DataSource whose transactions the consumer's positions
   * commit in, so `context.entityManager()` works: its name (default
   * `'default'`, used when the app has it and it is on Chronicle's database),
   * or `false` to always use Chronicle's own connection.
   */
  readonly dataSource?: string | false;
  /**
   * The consumer's projection tables, as plain SQL DDL (`CREATE TABLE stock
   * (...)`, `CREATE INDEX ...`), unqualified: Chronicle creates them at start
   * in the consumer's own schema (a statement whose table or index already
   * exists is passed over), runs `context.sql()` with that schema first in its
   * search_path, and empties them when the consumer is reset to the
   * beginning. TypeORM entity classes may stand among them (`[StockLevel,
   * 'CREATE INDEX ...']`): Chronicle creates their tables in that schema from
   * their metadata on the consumer's `dataSource`, where
   * `context.entityManager()` then finds them. See "Projection tables" in
   * docs/guides/consumers.md.
   */
  readonly tables?: readonly ConsumerTable[];
  /**
   * The document collections this consumer fills (`@Document` classes or
   * `{ name, indexes, text }`): their tables live in the consumer's schema
   * like its `tables`, so a reset to the beginning empties them and a new
   * `version` rebuilds them beside the live ones, reads switching with it.
   * Only the consumer's handlers write them. See "Collections filled by a
   * consumer" in docs/guides/documents.md.
   */
  readonly documents?: readonly ConsumerCollection[];
  /**
   * The schema of the consumer's `tables`. Default: `<projection
   * schema>_<consumer name>` (`chronicle_projections_stock_levels`), lower
   * case with every other character as `_`.
   */
  readonly schema?: string;
  /**
   * The version of the consumer's tables and handlers (with `tables` or `documents` only).
   * Raising it rebuilds the projection from the beginning into a schema of
   * its own (`..._v2`) beside the live version, which keeps serving; when the
   * rebuild reaches the head, reads switch to it. See "Blue-green rebuilds"
   * in docs/guides/consumers.md. Default 1.
   */
  readonly version?: number;
}

/** `ChronicleModule.forRoot({ tracking })`: how this process runs its consumers. */
export interface TrackingOptions {
  /** Run consumers in this process. Default true; false for a process that only sends commands. */
  readonly enabled?: boolean;
  /** How long a claimed segment stays this instance's without renewal. Default 10 s. */
  readonly leaseMs?: number;
  /**
   * The first pause of an idle segment before it reads again when no append
   * signal came, doubled up to `maxPollIntervalMs`. The signal is the fast
   * path; polling is the fallback (other processes, missed signals). Default 100 ms.
   */
  readonly pollIntervalMs?: number;
  /** The longest pause between polls of an idle segment. Default 2 s. */
  readonly maxPollIntervalMs?: number;
  /** This instance's name in `consumer_positions.owner`. Default: host, pid and a random suffix. */
  readonly instanceId?: string;
  /**
   * Put before every consumer schema named with the `schema` option (derived
   * names already follow the projection schema). `@chronicle/testing` sets it
   * so that each fixture gets its own copy of every consumer's tables.
   * Default: none.
   */
  readonly schemaPrefix?: string;
  /**
   * How long the schema of a consumer version that a blue-green rebuild
   * replaced is kept after the switch (reads that began before it finish on
   * it), before an instance drops it. Default 1 hour.
   */
  readonly retiredSchemaGraceMs?: number;
}

export type ResolvedConsumerOptions = Required<
  Omit<ConsumerOptions, 'dataSource' | 'schema' | 'sequenceBy'>
> & {
  readonly dataSource: string | false;
  readonly schema?: string;
  readonly sequenceBy?: SequenceKey;
};

/** What ChronicleModule hands the tracking module: the options, and where projections go. */
export interface TrackingSettings extends TrackingOptions {
  /** The app's projection schema (derived consumer schemas start with it). */
  readonly projectionSchema?: string;
}

export type ResolvedTrackingOptions = Required<TrackingSettings>;

export function resolveConsumerOptions(
  options: ConsumerOptions,
): ResolvedConsumerOptions {
  return {
    segments: options.segments ?? 1,
    sequenceBy: options.sequenceBy,
    onSegmentsChanged: options.onSegmentsChanged ?? 'refuse',
    batchSize: options.batchSize ?? 100,
    startFrom: options.startFrom ?? 'beginning',
    onError: options.onError ?? 'stop',
    maxAttempts: options.maxAttempts ?? 5,
    retryDelayMs: options.retryDelayMs ?? 200,
    savepoints: options.savepoints ?? 'on-failure',
    dataSource: options.dataSource ?? 'default',
    tables: options.tables ?? [],
    documents: options.documents ?? [],
    schema: options.schema,
    version: options.version ?? 1,
  };
}
