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
import { sweepHandledCommands } from '../store/postgres/handled-commands.js';
import {
  TRANSPORT_OPTIONS,
  type ResolvedTransportOptions,
} from '../transport/index.js';
import { durationMs } from './duration.js';
import { HandleSchedule } from './schedule-handler.decorators.js';
import { ScheduleType } from './schedule-type.decorator.js';
import { Scheduler } from './scheduler.js';

/**
 * The periodic message that sweeps one app's old command records. It names
 * the app and its retention, so whichever instance delivers it (of any app
 * on the store) sweeps that app's records only, with that app's retention.
 */
@ScheduleType('chronicle.SweepHandledCommands')
export class SweepHandledCommands {
  constructor(
    readonly app: string,
    readonly retentionMs: number,
  ) {}
}

/** How long command records are kept unless `commands.retention` says otherwise. */
export const DEFAULT_COMMAND_RETENTION = '7d';

/** The cleanup schedule of one app: each app on a store has its own. */
export function cleanupScheduleId(app: string): string {
  return `chronicle.handled-commands-cleanup:${app}`;
}

/** The schedule every app shared before it was scoped per app. */
const SHARED_SCHEDULE_ID = 'chronicle.handled-commands-cleanup';

/**
 * Keeps `handled_commands` from growing for ever: a periodic schedule of this
 * app (so one instance per occurrence) deletes this app's records older than
 * its retention (`commands.retention`, default 7 days). With
 * `retention: false`, this app's schedule is cancelled and its records kept.
 */
@Injectable()
export class HandledCommandsCleanup implements OnApplicationBootstrap {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly store: EventStore,
    @Inject(COMMAND_HANDLING_OPTIONS)
    private readonly options: CommandHandlingOptions,
    @Inject(TRANSPORT_OPTIONS)
    private readonly transport: ResolvedTransportOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const id = cleanupScheduleId(this.transport.app);
    // It swept every app's records with one app's retention: never again.
    await this.scheduler.cancel(SHARED_SCHEDULE_ID);
    const retention = this.options.retention ?? DEFAULT_COMMAND_RETENTION;
    if (retention === false) {
      await this.scheduler.cancel(id);
      return;
    }
    const retentionMs = durationMs(retention, 'commands.retention');
    await this.scheduler.schedulePeriodic(
      new SweepHandledCommands(this.transport.app, retentionMs),
      // Often enough to keep close to the retention, never in a tight loop.
      { every: Math.min(Math.max(retentionMs, 60_000), 3_600_000) },
      { id },
    );
  }

  /** Deletes the named app's command records older than its retention; returns how many. */
  @HandleSchedule(SweepHandledCommands)
  async sweep(sweep: SweepHandledCommands): Promise<number> {
    // A sweep scheduled before sweeps were scoped per app names none.
    if (typeof sweep.app !== 'string' || !(sweep.retentionMs >= 0)) return 0;
    if (!(this.store instanceof PostgresEventStore)) return 0;
    return sweepHandledCommands(
      this.store.client,
      this.store.schema,
      sweep.app,
      sweep.retentionMs,
    );
  }
}
