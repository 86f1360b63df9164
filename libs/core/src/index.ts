// Chronicle builds on @nestjs/cqrs: what its users write every day comes from here too.
export {
  AsyncContext,
  Command,
  CommandBus,
  CommandHandler,
  EventBus,
  EventsHandler,
  Query,
  QueryBus,
  QueryHandler,
  type ICommand,
  type ICommandHandler,
  type IEvent,
  type IEventHandler,
  type IQuery,
  type IQueryHandler,
} from '@nestjs/cqrs';

export * from './aggregates/index.js';
export * from './documents/index.js';
export {
  CHRONICLE_OPTIONS,
  ChronicleModuleOptionsError,
  type ChronicleModuleAsyncOptions,
  type ChronicleModuleOptions,
  type ChronicleOptionsFactory,
  type DatabaseOptions,
} from './chronicle.options.js';
export { ChronicleModule } from './chronicle.module.js';
export {
  ERROR_MESSAGE_TYPE,
  ErrorHandlerDefinitionError,
  HandleError,
  HandlingFailed,
  UnknownErrorSourceError,
  type ErrorSourceType,
  type HandlingFailedFields,
} from './error-messages/index.js';
export * from './handling/index.js';
export * from './messages/index.js';
export {
  MessageLog,
  MessageLogOptionsError,
  MessageLogPartitions,
  MessageLogSearchError,
  MessageLogWriter,
  formatMs,
  traceText,
  Secret,
  type LogMaintenanceReport,
  type LoggedError,
  type LoggedKind,
  type LoggedOutcome,
  type ConsumerPassage,
  type ProcessStepPassage,
  type LoggedMessage,
  type MessageLogFilter,
  type MessageLogOptions,
  type MessageLogPage,
  type MessageLogSearchPage,
  type MessageTrace,
  type TraceNode,
} from './message-log/index.js';
export * from './observability/index.js';
export * from './redaction/index.js';
export * from './scheduling/index.js';
export * from './security/index.js';
export * from './store/index.js';
// Spans and instruments are Chronicle's own business; the app sees the options
// and the registry's instruments (to read them in tests).
export {
  ChronicleMetrics,
  Telemetry,
  TRACE_KEYS,
  type MetricsOption,
  type MetricsOptions,
  type TraceMetadata,
} from './telemetry/index.js';
export * from './transport/index.js';
export * from './processes/index.js';
export * from './tracking/index.js';
export * from './notifications/index.js';
export * from './security/personal-data/index.js';
