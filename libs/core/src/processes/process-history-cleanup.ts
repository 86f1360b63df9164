import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  durationMs,
  HandleSchedule,
  Scheduler,
  ScheduleType,
  type Duration,
} from '../scheduling/index.js';
import { EventStore, PostgresEventStore } from '../store/index.js';
import { ProcessRunner } from './process-runner.js';

/** How long an ended instance's step history is kept unless `historyRetention` says otherwise. */
export const DEFAULT_PROCESS_HISTORY_RETENTION: Duration = '30d';

/**
 * The periodic message that sweeps one process manager's history. It names
 * the process manager and its retention, so whichever instance delivers it
 * sweeps that one's rows with that one's retention.
 */
@ScheduleType('chronicle.SweepProcessHistory')
export class SweepProcessHistory {
  constructor(
    readonly process: string,
    readonly retentionMs: number,
  ) {}
}

/** The history cleanup schedule of one process manager. */
export function historyCleanupScheduleId(process: string): string {
  return `chronicle.process-history-cleanup:${process}`;
}

/**
 * Keeps `process_steps` from growing for ever: the step history of instances
 * that ended longer ago than `historyRetention` (default 30 days) is deleted
 * by a periodic schedule per process manager. Only ended instances lose
 * theirs: a live instance's history is what makes a replay pass over the
 * events it handled, and an ended instance passes every event over by its
 * status, which stays (its row is kept, so a key stays one piece of work).
 * With `historyRetention: false` the schedule is cancelled and history kept.
 */
@Injectable()
export class ProcessHistoryCleanup implements OnApplicationBootstrap {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly scheduler: Scheduler,
    private readonly store: EventStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const { name, historyRetention } of this.runner.processes()) {
      const id = historyCleanupScheduleId(name);
      const retention = historyRetention ?? DEFAULT_PROCESS_HISTORY_RETENTION;
      if (retention === false) {
        await this.scheduler.cancel(id);
        continue;
      }
      const retentionMs = durationMs(retention, 'historyRetention');
      await this.scheduler.schedulePeriodic(
        new SweepProcessHistory(name, retentionMs),
        // Often enough to keep close to the retention, never in a tight loop.
        { every: Math.min(Math.max(retentionMs, 60_000), 3_600_000) },
        { id },
      );
    }
  }

  /** Deletes the history of the named process manager's instances that ended before the retention; returns how many rows. */
  @HandleSchedule(SweepProcessHistory)
  async sweep(sweep: SweepProcessHistory): Promise<number> {
    if (!(this.store instanceof PostgresEventStore)) return 0;
    const { client, schema } = this.store;
    const rows = await client.query<{ n: number }>(
      `WITH swept AS (
         DELETE FROM ${schema.table('process_steps')} s
          USING ${schema.table('process_instances')} i
          WHERE i.name = $1::text AND i.status = 'ended'
            AND i.ended_at < now() - $2::float8 * interval '1 millisecond'
            AND s.name = i.name AND s.key = i.key
         RETURNING 1)
       SELECT count(*)::int AS n FROM swept`,
      [sweep.process, sweep.retentionMs],
    );
    return rows[0]?.n ?? 0;
  }
}
