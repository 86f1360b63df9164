import { Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { SnapshotStore, type SnapshotToWrite } from './snapshot-store.js';

/**
 * Writes snapshots in the background, after the command that earned them has
 * committed and returned: a command never waits for, nor fails with, a
 * snapshot. Per stream, one write runs at a time and only the newest waiting
 * snapshot is kept, so a busy aggregate cannot pile writes up. Failures are
 * logged; the next snapshot, or a longer load, makes up for them.
 */
export class SnapshotWriter implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Chronicle snapshots');
  private readonly waiting = new Map<string, SnapshotToWrite>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    readonly store: SnapshotStore,
    /** `false` turns snapshots off for every aggregate (`aggregates.snapshots: false`). */
    readonly enabled = true,
  ) {}

  /** Queues a snapshot; returns at once. */
  schedule(snapshot: SnapshotToWrite): void {
    const queued = this.waiting.get(snapshot.streamId);
    if (!queued || queued.version < snapshot.version) {
      this.waiting.set(snapshot.streamId, snapshot);
    }
    if (!this.running.has(snapshot.streamId)) this.drain(snapshot.streamId);
  }

  /** Resolves when every queued snapshot is written (or has failed and been logged). */
  async flush(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  /** Lets queued snapshots reach the database before it is closed. */
  beforeApplicationShutdown(): Promise<void> {
    return this.flush();
  }

  private drain(streamId: string): void {
    const work = (async () => {
      // Start on a later turn of the event loop, after the command's caller resumed.
      await new Promise((resolve) => setImmediate(resolve));
      for (;;) {
        const snapshot = this.waiting.get(streamId);
        if (!snapshot) return;
        this.waiting.delete(streamId);
        try {
          await this.store.write(snapshot);
        } catch (error) {
          this.logger.warn(
            `Could not store the snapshot of "${streamId}" at version ${snapshot.version}: ` +
              `${error instanceof Error ? error.message : String(error)}. Loads replay more events until the next one.`,
          );
        }
      }
    })().finally(() => this.running.delete(streamId));
    this.running.set(streamId, work);
  }
}
