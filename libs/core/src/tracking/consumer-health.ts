import type { Checkpoint } from '../store/index.js';

/** One segment of a consumer, as every instance sees it. */
export interface SegmentHealth {
  readonly segment: number;
  /** The last event handled, in the log's order. */
  readonly checkpoint: Checkpoint;
  /**
   * Events of the consumer's types in this segment committed past its
   * checkpoint, including those held back behind the safe horizon by an open
   * transaction (counted up to 1,000,000).
   */
  readonly behind: number;
  /**
   * Of `behind`, the events below the safe horizon: those the segment could
   * read now (the rest wait for an open transaction, see `heldBack`).
   */
  readonly readableBehind: number;
  /**
   * How long the oldest of those events has waited: now minus its
   * `created_at`, in seconds, by the database's clock; 0 when none waits.
   */
  readonly lagSeconds: number;
  /** When the checkpoint last moved (reading, a reset, a replay), by the database's clock. */
  readonly checkpointMovedAt: Date;
  /** Seconds since then, by the database's clock. */
  readonly checkpointIdleSeconds: number;
  /** The instance holding it, or null. */
  readonly owner: string | null;
  readonly leaseExpiresAt: Date | null;
  /** Whether this instance holds it. */
  readonly heldHere: boolean;
  /** `stopped`: an event failed every retry under the default policy; `unclaimed`: no live lease. */
  readonly status: 'running' | 'stopped' | 'unclaimed';
  readonly lastError: { readonly message: string; readonly at: Date } | null;
}

/** A consumer's progress against the head of the log. */
export interface ConsumerHealth {
  readonly consumer: string;
  /** The newest checkpoint a reader can see now. */
  readonly head: Checkpoint;
  /** No segment is stopped. */
  readonly healthy: boolean;
  readonly segments: readonly SegmentHealth[];
  /** Events it skipped under the `skip` policy: its rows in `dead_letters`. */
  readonly deadLetters: number;
  /** Streams it holds parked under the `park` policy (see `DeadLetters`). */
  readonly parkedStreams: number;
  /** Events waiting in those streams, the failing ones included. */
  readonly parkedEvents: number;
  /** Committed events wait behind the safe horizon: since when, and for which transactions. */
  readonly heldBack: LogHold | null;
  /** The version this app runs, and where it stands (consumers that declare tables). */
  readonly version?: VersionHealth;
}

/** A consumer version (blue-green rebuilds): live, rebuilding beside the live one, or retired. */
export interface VersionHealth {
  readonly version: number;
  readonly status: 'building' | 'live' | 'retired';
  /** The version reads go to now. */
  readonly liveVersion: number | null;
  /** While building: how far the rebuild has come. */
  readonly rebuild: RebuildProgress | null;
}

export interface RebuildProgress {
  /** Events of the consumer's types handled by this version. */
  readonly eventsDone: number;
  /** Events of its types in the log below the safe horizon (done plus readable behind). */
  readonly eventsTotal: number;
  /** Events done per second since the rebuild began. */
  readonly eventsPerSecond: number;
  /** Seconds left at that rate; null before any progress. */
  readonly secondsLeft: number | null;
  readonly startedAt: Date;
}

/**
 * The log is held back: events are committed, but a transaction that started
 * before them (anywhere on the server) is still running, so no reader may
 * pass it yet (see "The safe horizon" in docs/architecture.md).
 */
export interface LogHold {
  /** When the oldest holding transaction started (else when the oldest waiting event was stored). */
  readonly since: Date;
  /** Seconds since `since`, by the database's clock. */
  readonly ageSeconds: number;
  /** Committed events of the whole log behind the horizon (counted up to 1,000,000). */
  readonly eventsWaiting: number;
  /** The running transactions older than the waiting events, oldest first (up to 10). */
  readonly transactions: readonly HoldingTransaction[];
}

export interface HoldingTransaction {
  readonly transactionId: bigint;
  /** Its server process (pg_stat_activity), to find or end it; null where unknown (PGlite). */
  readonly pid: number | null;
  readonly since: Date | null;
  readonly application: string | null;
}
