import type { Logger } from '@nestjs/common';
import { StatementBatches } from '../batching/index.js';
import type {
  ClaimedSchedule,
  Delivered,
  ScheduleStore,
} from './schedule-store.js';

/** The most rows one removal statement records. */
const MAX_BATCH = 1_000;

/**
 * Records the outcome of deliveries that wrote nothing of their own, many at
 * a time: the rows delivered while one statement is under way go together in
 * the next (no timer: an idle instance records a lone delivery at once). Each
 * row is removed, or re-armed when periodic, only while this instance's claim
 * on it holds.
 *
 * Until recorded, a row stays claimed by this instance: it is renewed with the
 * deliveries under way and never claimed again here. If the instance dies (or
 * the statement fails) first, the row's claim runs out and it is delivered
 * again; that second delivery changes nothing, since such a delivery wrote
 * nothing of its own and its commands are sent under the same ids.
 */
export class ScheduleRemovals {
  private readonly batches: StatementBatches<Delivered>;

  constructor(
    private readonly store: ScheduleStore,
    private readonly logger: Logger,
    /**
     * Told when a row may be claimable again: a periodic row re-armed (when
     * it is due), or a row whose claim was lost (now: its lease may have run out).
     */
    private readonly dueAgain: (dueMs?: number) => void,
  ) {
    this.batches = new StatementBatches(
      (batch) => this.record(batch),
      MAX_BATCH,
    );
  }

  /** The claims still held for rows waiting to be recorded. */
  get held(): ClaimedSchedule[] {
    return this.batches.pending.map((d) => d.claimed);
  }

  /** How many rows wait to be recorded. */
  get size(): number {
    return this.batches.size;
  }

  add(delivered: Delivered): void {
    this.batches.add(delivered);
  }

  /** Resolves once every row added so far is recorded (or given up). */
  drain(): Promise<void> {
    return this.batches.drain();
  }

  private async record(batch: readonly Delivered[]): Promise<void> {
    let recorded: Set<string>;
    try {
      recorded = await this.store.finishAll(batch);
    } catch (error) {
      // Database gone? The claims run out and the rows are delivered again
      // (by this or another instance), which changes nothing.
      this.logger.error(
        `Could not record the delivery of ${batch.length} schedules: ${(error as Error).message}; they will be delivered again once their claims run out`,
      );
      return;
    }
    let lost = false;
    for (const { claimed, nextMs } of batch) {
      if (!recorded.has(claimed.id)) {
        lost = true;
        this.logger.warn(
          `Schedule ${claimed.id}: claim lost before its delivery was recorded (replaced, cancelled, or its claim timed out); if it is still there it is delivered again, to no further effect`,
        );
      } else if (nextMs !== undefined) this.dueAgain(nextMs);
    }
    if (lost) this.dueAgain();
  }
}
