import type { Envelope } from '../messages/index.js';
import type { SqlClient } from './postgres/sql-client.js';

/**
 * What the writer expects of a stream before appending: any state, no stream
 * yet, a stream with at least one event, or exactly this many events.
 */
export type ExpectedVersion = 'any' | 'noStream' | 'exists' | number;

/** An event ready to be stored: an envelope whose payload is already JSON. */
export type NewEvent = Envelope<Record<string, unknown>>;

/** An event as stored, with its place in its stream and in the global log. */
export interface StoredEvent<P = Record<string, unknown>> extends Envelope<P> {
  readonly streamId: string;
  /** 1 for the first event of a stream. */
  readonly streamVersion: number;
  /** Global, unique, increasing by insert; not commit order (see `Checkpoint`). */
  readonly position: bigint;
  /** The id of the PostgreSQL transaction that wrote it. */
  readonly transactionId: bigint;
}

/**
 * A place in the global log. The log is ordered by (transactionId, position),
 * not by position alone: a transaction that took a lower position can commit
 * after one that took a higher one, and ordering by commit-safe transaction id
 * is what lets readers never skip it.
 */
export interface Checkpoint {
  readonly transactionId: bigint;
  readonly position: bigint;
}

/**
 * The log as it stands at one moment: where a follower that wants only what
 * commits from now on starts. Above `checkpoint`, the safe horizon, the log
 * may already hold events an older open transaction holds back; they
 * committed before this moment, and `committedBefore` says so.
 */
export interface LogHead {
  /** The newest event `readAll` can return now. */
  readonly checkpoint: Checkpoint;
  /** Whether the transaction that wrote an event had committed at this moment. */
  committedBefore(transactionId: bigint): boolean;
}

/** The checkpoint before the first event. */
export const LOG_START: Checkpoint = Object.freeze({
  transactionId: 0n,
  position: 0n,
});

export interface StreamAppend {
  readonly streamId: string;
  readonly events: readonly NewEvent[];
  readonly expectedVersion: ExpectedVersion;
}

export interface AppendResult {
  readonly streamId: string;
  /** The stream's version after the append: pass it as `expectedVersion` next time. */
  readonly nextExpectedVersion: number;
  /** The global positions of the appended events, in stream order. */
  readonly positions: readonly bigint[];
  readonly transactionId: bigint;
}

/** A command's id and result, kept in the transaction of the events it produced. */
export interface HandledCommand {
  readonly id: string;
  readonly type: string;
  readonly result: unknown;
  /** The app that handled it: each app sweeps only its own records. */
  readonly app?: string;
}

/**
 * One row of the message log as its columns (see message-log/): what a
 * handling was, by whom, and how it ended. Written with the events of the
 * command it describes (`AppendOptions.logRecord`) or behind, in batches.
 * `streams` and `positions` are filled by the append that carries it.
 */
export interface MessageLogRecord {
  readonly kind: string;
  /** When the handling began (ISO 8601); the partition key with `kind`. */
  readonly logged_at: string;
  readonly id: string;
  readonly type: string;
  readonly revision?: number | null;
  readonly payload?: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly correlation_id?: string | null;
  readonly causation_id?: string | null;
  readonly app?: string | null;
  readonly instance?: string | null;
  readonly sender_app?: string | null;
  readonly finished_at?: string | null;
  readonly duration_ms?: number | null;
  readonly outcome: string;
  readonly result?: unknown;
  readonly error?: unknown;
  readonly error_code?: string | null;
  readonly streams?: readonly string[] | null;
  readonly positions?: readonly string[] | null;
}

export interface AppendOptions {
  /** Record this command as handled in the same transaction (idempotency). */
  readonly handledCommand?: HandledCommand;
  /**
   * Log the handling in the same statement: written only if the events are,
   * with the streams and positions they got.
   */
  readonly logRecord?: MessageLogRecord;
}

export interface ReadStreamOptions {
  /** The first version to read (inclusive). Default 1. */
  readonly fromVersion?: number;
  /** The last version to read (inclusive). Default: the end. */
  readonly toVersion?: number;
  /**
   * Rows fetched per round trip. Default: 1000 on the first, then four times
   * more on each next one, up to 8000 (a long stream in few round trips).
   */
  readonly batchSize?: number;
}

export interface ReadAllOptions {
  /** Read events after this checkpoint. Default: the start of the log. */
  readonly after?: Checkpoint;
  /**
   * How far one read looks: the next `limit` events of the log, of which the
   * filters below keep theirs. Default 1000.
   */
  readonly limit?: number;
  /** Only events of these types. Default: all. */
  readonly types?: readonly string[];
  /**
   * Only the streams of one segment of `count`, by a stable hash of the stream
   * id (`abs(hashtext(stream_id)) % count`): a stream is always in the same
   * segment, so splitting a reader by segments keeps each stream's order.
   */
  readonly segment?: { readonly index: number; readonly count: number };
}

export interface ReadAllBatch {
  readonly events: readonly StoredEvent[];
  /**
   * Where the next read continues: the last event the read scanned past,
   * matching the filters or not (`after` when it found nothing new).
   */
  readonly checkpoint: Checkpoint;
  /** The read reached the newest readable event: nothing more to read now. */
  readonly caughtUp: boolean;
}

/**
 * The event store port. Inject it to read and write streams directly; most code
 * uses `AggregateRepository` instead.
 */
export abstract class EventStore {
  /** Appends events to one stream in one transaction, checking its version first. */
  abstract append(
    streamId: string,
    events: readonly NewEvent[],
    options?: { expectedVersion?: ExpectedVersion },
  ): Promise<AppendResult>;

  /**
   * Appends to several streams in one transaction: all or nothing. A version
   * conflict on any stream raises `ConcurrencyError` and appends nothing.
   */
  abstract appendToStreams(
    appends: readonly StreamAppend[],
    options?: AppendOptions,
  ): Promise<AppendResult[]>;

  /** The events of one stream in version order, fetched in batches. */
  abstract readStream(
    streamId: string,
    options?: ReadStreamOptions,
  ): AsyncIterable<StoredEvent>;

  /** The current version of a stream; 0 when it has no events. */
  abstract streamVersion(streamId: string): Promise<number>;

  /**
   * One batch of the global log after a checkpoint, in commit-safe order: an
   * event is returned only once every transaction that could precede it has ended.
   */
  abstract readAll(options?: ReadAllOptions): Promise<ReadAllBatch>;

  /** The checkpoint of the newest event that `readAll` can return now. */
  abstract headCheckpoint(): Promise<Checkpoint>;

  /** The log now: its head checkpoint and which transactions had committed. */
  abstract logHead(): Promise<LogHead>;

  /** The stored outcome of a command id, if it was handled. */
  abstract findHandledCommand(id: string): Promise<HandledCommand | undefined>;

  /**
   * Runs `fn` in one database transaction, with a store bound to it and the raw
   * transaction for your own writes: they commit together, or not at all.
   * Append first: the events insert must be the transaction's first write (see
   * read-all.ts), and an append after another write is refused with
   * `AppendNotFirstWriteError`. Listeners are signalled after the commit.
   */
  abstract transaction<T>(
    fn: (store: EventStore, tx: SqlClient) => Promise<T>,
  ): Promise<T>;
}
