import { ChronicleError } from '../messages/index.js';

/** A schedule that cannot be made as asked: a bad time, duration or cron expression. */
export class InvalidScheduleError extends ChronicleError {
  readonly code = 'INVALID_SCHEDULE';
}

/** A message was scheduled whose class has no stable type name. */
export class UnregisteredScheduleTypeError extends ChronicleError {
  readonly code = 'UNREGISTERED_SCHEDULE_TYPE';

  constructor(readonly className: string) {
    super(
      `${className} cannot be scheduled: it has no stable type name. ` +
        `Decorate it with @CommandType('...') to deliver it as a command, or with @ScheduleType('...') ` +
        `and handle it with a @HandleSchedule(${className}) method.`,
    );
  }
}

/** A delivered schedule payload that no @HandleSchedule method of this process handles. */
export class ScheduleHandlerNotFoundError extends ChronicleError {
  readonly code = 'SCHEDULE_HANDLER_NOT_FOUND';

  constructor(readonly type: string) {
    super(
      `No @HandleSchedule method handles "${type}" in this process. ` +
        'Add one to a provider of a module this app imports.',
    );
  }
}

/** Two periodic schedules or handlers claim the same id. */
export class DuplicateScheduleHandlerError extends ChronicleError {
  readonly code = 'DUPLICATE_SCHEDULE_HANDLER';

  constructor(
    readonly key: string,
    readonly first: string,
    readonly second: string,
  ) {
    super(
      `"${key}" is handled by both ${first} and ${second}; a schedule is delivered to one handler. ` +
        'Keep one, or give the @Periodic methods distinct ids.',
    );
  }
}
