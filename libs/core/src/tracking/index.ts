export { Consumer, HandleEvent, OnReset } from './consumer.decorators.js';
export {
  consumerBatch,
  consumerTransaction,
  type ConsumerContext,
} from './consumer-context.js';
export type {
  ConsumerHealth,
  HoldingTransaction,
  LogHold,
  SegmentHealth,
} from './consumer-health.js';
export type {
  ConsumerOptions,
  ErrorPolicy,
  SavepointMode,
  SequenceKey,
  StartFrom,
  TrackingOptions,
  TrackingSettings,
} from './consumer.options.js';
export {
  dropParked,
  listDeadLetters,
  retryParked,
  type DeadLetterList,
  type DeadLetterQuery,
  type DropOptions,
  type DropOutcome,
  type ParkedSequence,
  type RetryOptions,
  type RetryOutcome,
  type SkippedLetter,
} from './dead-letter-operations.js';
export type { ConsumerTable, EntityClass } from './entity-tables.js';
export { DeadLetters } from './dead-letters.service.js';
export type { ResetTarget } from './reset-target.js';
export {
  consumersOverview,
  rebuildsOverview,
  type ConsumerOverview,
  type RebuildOverview,
  type SegmentOverview,
  type VersionOverview,
} from './consumers-overview.js';
export { requestReplay } from './request-replay.js';
export {
  followReplay,
  type FollowReplayOptions,
  type ReplayProgress,
} from './replay-progress.js';
export {
  ConsumerDefinitionError,
  ConsumerNotFoundError,
  ConsumerSegmentsChangedError,
  DuplicateConsumerError,
  EntityManagerUnavailableError,
  EntityTableError,
  InvalidResetTargetError,
  StreamNotParkedError,
  NoConsumerTablesError,
} from './tracking.errors.js';
export { TrackingModule } from './tracking.module.js';
export { ProjectionTables } from './projection-tables.service.js';
export { TrackingService } from './tracking.service.js';
export { CONSUMER_COLLECTIONS, TRACKING_OPTIONS } from './tracking.tokens.js';
export type {
  ConsumerCollection,
  ConsumerCollections,
  ConsumerCollectionSchemas,
} from './consumer-collections.js';
