export {
  LOGGED_KINDS,
  toLogRecord,
  type LogEntry,
  type LoggedError,
  type LoggedKind,
  type LoggedOutcome,
} from './log-entry.js';
export { MessageLogWriter } from './log-writer.js';
export {
  MessageLogPartitions,
  type LogMaintenanceReport,
  type LogPartitionsSettings,
  DAYS_AHEAD,
} from './log-partitions.js';
export {
  MASK,
  maskedFieldsOf,
  maskField,
  maskPayload,
  Secret,
  type MaskReason,
} from './masking.js';
export {
  MESSAGE_LOG_OPTIONS,
  MessageLogOptionsError,
  resolveMessageLogOptions,
  type MessageLogOptions,
  type ResolvedMessageLogOptions,
} from './message-log.options.js';
export { HandlingLog, LoggedHandling, type LogSource } from './handling-log.js';
export { loggedErrorOf, loggedOutcomeOf } from './logged-error.js';
export {
  MessageLog,
  TRACE_ROW_LIMIT,
  type MessageLogSearchPage,
} from './message-log.js';
export { type LoggedMessage } from './logged-message.js';
export {
  type ConsumerPassage,
  type MessageTrace,
  type ProcessStepPassage,
  type TraceNode,
} from './message-trace.js';
export {
  DEFAULT_SEARCH_LIMIT,
  MAX_SEARCH_LIMIT,
  MessageLogSearchError,
  type JsonValue,
  type MessageLogFilter,
  type MessageLogPage,
} from './search-filter.js';
export { formatMs, traceText } from './trace-text.js';
