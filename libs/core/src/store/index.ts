export {
  AppendSignal,
  LocalAppendSignal,
  type AppendedTypes,
} from './append-signal.js';
export {
  followLog,
  type FollowedEvent,
  type FollowLogOptions,
} from './follow-log.js';
export {
  feedTypesOf,
  LogFeeds,
  logPlaceOf,
  parseLogPlace,
  type FeedRequest,
  type FeedResponse,
  type LogFeedOptions,
} from './log-feeds.js';
export { ConcurrencyError } from './concurrency.error.js';
export {
  EventStore,
  LOG_START,
  type AppendOptions,
  type AppendResult,
  type Checkpoint,
  type ExpectedVersion,
  type HandledCommand,
  type MessageLogRecord,
  type NewEvent,
  type ReadAllBatch,
  type ReadAllOptions,
  type ReadStreamOptions,
  type LogHead,
  type StoredEvent,
  type StreamAppend,
} from './event-store.js';
export * from './postgres/index.js';
export type {
  PayloadCipher,
  SealedAppends,
  SealedPayload,
} from './payload-cipher.js';
export {
  batchesOf,
  replayBatchesOf,
  type BatchedStreamRead,
  type PartStoredEvent,
  type ReplayedEvent,
  type ReplayFields,
} from './stream-batches.js';
export {
  AppendNotFirstWriteError,
  CommandAlreadyHandledError,
  DatabaseUnavailableError,
  DataDirectoryInUseError,
  isDatabaseUnavailable,
  RebaseRefusedError,
  InvalidAppendError,
  StoreConfigurationError,
  TransactionIdsAheadError,
} from './store.errors.js';
export { SQL_CLIENT } from './store.tokens.js';
export { openSqlClient, type SqlClientOptions } from './open-sql-client.js';
export {
  projectionSchemaFor,
  type ProjectionSchemaSettings,
} from './projection-schema.js';
