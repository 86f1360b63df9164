export {
  COMMAND_HANDLING_OPTIONS,
  type CommandHandlingOptions,
} from './command-handling.options.js';
export { CommandOutbox } from './command-outbox.js';
export { CommandPipeline } from './command-pipeline.js';
export {
  FailureReporter,
  type FailedKind,
  type HandlingFailure,
  type NextStep,
} from './failure-reporter.js';
export {
  CommandIdReusedError,
  NotACommandError,
  ResultNotJsonError,
  UnknownEnabledModuleError,
} from './handling.errors.js';
export { HandlingModule } from './handling.module.js';
export { MessageGateway } from './message-gateway.js';
export {
  ChronicleInternalModule,
  EnabledModules,
  enabledModulesFrom,
  type WorkPredicate,
} from './enabled-modules.js';
export {
  MalformedMessageLog,
  type MalformedMessageLogger,
} from './malformed-message-log.js';
export { MessageRouter } from './message-router.js';
export { type SendOptions } from './send-options.js';
export { UnitOfWork, type EnlistedWrite } from './unit-of-work.js';
