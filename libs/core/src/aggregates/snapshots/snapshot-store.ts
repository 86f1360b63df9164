/** A snapshot to store: an aggregate's state at one version of its stream. */
export interface SnapshotToWrite {
  readonly streamId: string;
  readonly version: number;
  readonly aggregateType: string;
  /** The aggregate type's `snapshotRevision` when it was taken. */
  readonly revision: number;
  /** The state as JSON text (what `toSnapshot()` returned, stringified). */
  readonly stateJson: string;
}

/** A stored snapshot, as read back. */
export interface StoredSnapshot {
  readonly version: number;
  readonly state: unknown;
}

/**
 * Where snapshots are kept. They are a cache of what the events say: losing
 * one costs a longer load, never correctness.
 */
export abstract class SnapshotStore {
  /**
   * The newest snapshot of a stream taken with this revision, at or below
   * `atVersion` when given. Snapshots of any other revision are ignored.
   */
  abstract read(
    streamId: string,
    revision: number,
    atVersion?: number,
  ): Promise<StoredSnapshot | undefined>;

  /** Stores a snapshot, replacing the stream's older ones. */
  abstract write(snapshot: SnapshotToWrite): Promise<void>;
}
