import type { Checkpoint } from '../store/index.js';

/** One segment of a consumer, as every instance sees it. */
export interface SegmentHealth {
  readonly segment: number;
  /** The last event handled, in the log's order. */
  readonly checkpoint: Checkpoint;
  /** Events of the consumer's types in this segment still to handle (counted up to 1,000,000). */
  readonly behind: number;
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
}
