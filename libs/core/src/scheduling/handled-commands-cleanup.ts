import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  COMMAND_HANDLING_OPTIONS,
  type CommandHandlingOptions,
} from '../handling/index.js';
import { EventStore, PostgresEventStore } from '../store/index.js';
import { durationMs } from './duration.js';
import { HandleSchedule } from './schedule-handler.decorators.js';
import { ScheduleType } from './schedule-type.decorator.js';
import { Scheduler } from './scheduler.js';

/** The periodic message that sweeps old command records. */
@ScheduleType('chronicle.SweepHandledCommands')
export class SweepHandledCommands {}

const SCHEDULE_ID = 'chronicle.handled-commands-cleanup';

/**
 * Keeps `handled_commands` from growing for ever when `commands.retention` is
 * set: a periodic schedule (so one instance per occurrence) deletes the
 * records older than the retention. Without it, the schedule is cancelled.
 */
@Injectable()
export class HandledCommandsCleanup implements OnApplicationBootstrap {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly store: EventStore,
    @Inject(COMMAND_HANDLING_OPTIONS)
    private readonly options: CommandHandlingOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.retention === undefined) {
      await this.scheduler.cancel(SCHEDULE_ID);
      return;
    }
    const retentionMs = durationMs(this.options.retention);
    await this.scheduler.schedulePeriodic(
      new SweepHandledCommands(),
      { every: Math.min(retentionMs, 3_600_000) },
      { id: SCHEDULE_ID },
    );
  }

  /** Deletes the command records older than the retention; returns how many. */
  @HandleSchedule(SweepHandledCommands)
  async sweep(): Promise<number> {
    if (this.options.retention === undefined) return 0;
    if (!(this.store instanceof PostgresEventStore)) return 0;
    const rows = await this.store.client.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM ${this.store.schema.handledCommands}
         WHERE handled_at < now() - ($1::float8 / 1000) * interval '1 second'
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [durationMs(this.options.retention)],
    );
    return rows[0].n;
  }
}
