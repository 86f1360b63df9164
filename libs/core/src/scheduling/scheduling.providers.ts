import type { Provider } from '@nestjs/common';
import { CommandOutbox } from '../handling/index.js';
import {
  EventStore,
  PostgresEventStore,
  SQL_CLIENT,
  StoreSchema,
  type SqlClient,
} from '../store/index.js';
import { Clock, SystemClock } from './clock.js';
import { ScheduledSends } from './scheduled-sends.js';
import { Scheduler } from './scheduler.js';
import { ScheduleSignal } from './schedule-signal.js';
import { ScheduleStore } from './schedule-store.js';
import {
  SCHEDULING_OPTIONS,
  type SchedulingOptions,
} from './scheduling.options.js';

/**
 * What ChronicleModule provides for scheduling, given `SCHEDULING_OPTIONS`.
 * The store is injected so that its migrations (the `schedules` table) have
 * run before anything is scheduled.
 */
export const schedulingProviders: Provider[] = [
  {
    provide: Clock,
    useFactory: (options: SchedulingOptions) =>
      options.clock ?? new SystemClock(),
    inject: [SCHEDULING_OPTIONS],
  },
  { provide: ScheduleSignal, useClass: ScheduleSignal },
  {
    provide: ScheduleStore,
    useFactory: (client: SqlClient, store: EventStore, clock: Clock) =>
      new ScheduleStore(
        client,
        store instanceof PostgresEventStore ? store.schema : new StoreSchema(),
        clock,
      ),
    inject: [SQL_CLIENT, EventStore, Clock],
  },
  Scheduler,
  // MessageGateway.sendAndForget stores its commands here.
  { provide: CommandOutbox, useClass: ScheduledSends },
];

/**
 * What apps inject: the `Scheduler`, and the `Clock` (to read or, in tests,
 * move time); the rest is for SchedulingModule's runner.
 */
export const schedulingExports = [
  Clock,
  CommandOutbox,
  Scheduler,
  ScheduleStore,
  ScheduleSignal,
  SCHEDULING_OPTIONS,
];
