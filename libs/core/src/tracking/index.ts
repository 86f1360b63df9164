export { Consumer, HandleEvent, OnReset } from './consumer.decorators.js';
export type { ConsumerContext } from './consumer-context.js';
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
  StartFrom,
  TrackingOptions,
  TrackingSettings,
} from './consumer.options.js';
export type { ResetTarget } from './reset-target.js';
export { requestReplay } from './request-replay.js';
export {
  ConsumerDefinitionError,
  ConsumerNotFoundError,
  ConsumerSegmentsChangedError,
  DuplicateConsumerError,
  EntityManagerUnavailableError,
  InvalidResetTargetError,
  NoConsumerTablesError,
} from './tracking.errors.js';
export { TrackingModule } from './tracking.module.js';
export { ProjectionTables } from './projection-tables.service.js';
export { TrackingService } from './tracking.service.js';
export { TRACKING_OPTIONS } from './tracking.tokens.js';
