export {
  EventUpcaster,
  type UpcastableEvent,
  type UpcastOptions,
} from './event-upcaster.js';
export {
  Upcaster,
  upcasterBindingsOf,
  type EventData,
  type UpcastedEvent,
  type UpcastFunction,
  type UpcastResult,
} from './upcaster.decorator.js';
export { UpcasterExplorer } from './upcaster.explorer.js';
export { UpcastingModule } from './upcasting.module.js';
export {
  DuplicateUpcasterError,
  UpcastFailedError,
} from './upcasting.errors.js';
