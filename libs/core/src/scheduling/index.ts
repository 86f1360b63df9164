export { Clock, SystemClock, type CancelTimer } from './clock.js';
export { durationMs, type Duration } from './duration.js';
export {
  cleanupScheduleId,
  DEFAULT_COMMAND_RETENTION,
  HandledCommandsCleanup,
  SweepHandledCommands,
} from './handled-commands-cleanup.js';
export { ManualClock } from './manual-clock.js';
export type { PeriodicSpec, StoredPeriodic } from './periodic.js';
export {
  HandleSchedule,
  Periodic,
  type PeriodicOptions,
} from './schedule-handler.decorators.js';
export { ScheduleStore } from './schedule-store.js';
export { ScheduledSends, sendScheduleId } from './scheduled-sends.js';
export {
  ScheduleType,
  ScheduleTypeRegistry,
  type ScheduleTypeInfo,
} from './schedule-type.decorator.js';
export type {
  ScheduleContext,
  ScheduleKind,
  ScheduledMessage,
} from './scheduled-message.js';
export {
  Scheduler,
  type ScheduleOptions,
  type ScheduleTime,
} from './scheduler.js';
export {
  DuplicateScheduleHandlerError,
  InvalidScheduleError,
  ScheduleHandlerNotFoundError,
  UnregisteredScheduleTypeError,
} from './scheduling.errors.js';
export { SchedulingModule } from './scheduling.module.js';
export {
  schedulingExports,
  schedulingProviders,
} from './scheduling.providers.js';
export {
  SCHEDULING_OPTIONS,
  type SchedulingOptions,
} from './scheduling.options.js';
export { periodicId, SchedulingRunner } from './scheduling-runner.js';
