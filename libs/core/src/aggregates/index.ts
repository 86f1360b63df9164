export { AggregateRoot } from './aggregate-root.js';
export {
  Aggregate,
  Apply,
  type AggregateOptions,
} from './aggregate.decorators.js';
export {
  AggregateNotFoundError,
  NotAnAggregateError,
} from './aggregate.errors.js';
export {
  AggregateRepository,
  type AggregateClass,
  type LoadOptions,
} from './aggregate-repository.js';
export {
  aggregateRepositoryProvider,
  aggregateRepositoryToken,
  InjectAggregateRepository,
} from './aggregate-repository.provider.js';
