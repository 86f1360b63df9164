import { ChronicleError } from '@chronicle/core';
import type { ScheduleProcess } from '../reading/schedule-list.js';

/**
 * A cancel asked for a process manager's own schedule. The row belongs to its
 * instance, which lists the deadline as open: removing the row alone would
 * leave the instance waiting for a deadline that never comes.
 */
export class ProcessScheduleCancelError extends ChronicleError {
  readonly code = 'CONSOLE_PROCESS_SCHEDULE';

  constructor(
    readonly scheduleId: string,
    readonly process: ScheduleProcess,
  ) {
    super(
      `Schedule ${scheduleId} belongs to process ${process.name}${process.key === null ? '' : ` (key ${process.key})`}, which lists it as open: a process manager's deadline is cancelled by its process manager (cancelDeadline or end in one of its steps), not from the console.`,
    );
  }
}
