import type { AggregateRoot } from '../aggregate-root.js';

/** What a snapshot policy knows when a command on an aggregate has committed. */
export interface SnapshotContext<T extends AggregateRoot = AggregateRoot> {
  /** The aggregate, as the command left it (read it; do not change it). */
  readonly aggregate: T;
  /** Its stream version now. */
  readonly version: number;
  /** The version it was loaded at, before the command. */
  readonly previousVersion: number;
  /** The version of the newest snapshot this process knows of; 0 when none. */
  readonly lastSnapshotVersion: number;
}

/**
 * Decides, after a command committed, whether to snapshot the aggregate.
 * `snapshotEvery: 500` is `({ version, lastSnapshotVersion }) => version - lastSnapshotVersion >= 500`.
 */
export type SnapshotPolicy<T extends AggregateRoot = AggregateRoot> = (
  context: SnapshotContext<T>,
) => boolean;
