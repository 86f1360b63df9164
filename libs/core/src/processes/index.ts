export {
  Handles,
  isDeadlineScheduleType,
  isProcessScheduleType,
  onCommandFailedTypes,
  OnCommandFailed,
  ProcessManager,
  StartedBy,
  processConsumerName,
  processManagerName,
  type AssociationKey,
  type AssociationOptions,
  type ProcessManagerOptions,
} from './process-manager.decorators.js';
export {
  listProcesses,
  type ProcessInstanceOverview,
  type ProcessListQuery,
  type ProcessStepOverview,
} from './process-list.js';
export {
  readProcess,
  type ProcessDeadlineDetail,
  type ProcessInstanceDetail,
} from './process-read.js';
export { ProcessManagerBase } from './process-manager.base.js';
export {
  DEFAULT_PROCESS_HISTORY_RETENTION,
  historyCleanupScheduleId,
  ProcessHistoryCleanup,
  SweepProcessHistory,
} from './process-history-cleanup.js';
export type { OpenDeadline, ProcessStatus } from './process-instances.js';
export {
  NotInProcessStepError,
  ProcessDeadlineError,
  ProcessKeyMissingError,
  ProcessManagerDefinitionError,
} from './processes.errors.js';
export { ProcessesModule } from './processes.module.js';
