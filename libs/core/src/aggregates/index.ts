export { AggregateRoot, aggregateStateOf } from './aggregate-root.js';
export {
  Aggregate,
  Apply,
  aggregateDefinitionOf,
  type AggregateDefinition,
  type AggregateOptions,
} from './aggregate.decorators.js';
export {
  AggregateNotFoundError,
  NotAnAggregateError,
} from './aggregate.errors.js';
export {
  AggregateRepository,
  type AggregateClass,
  type AggregateRepositoryServices,
  type LoadOptions,
} from './aggregate-repository.js';
export {
  aggregateClassOfToken,
  aggregateRepositoryProvider,
  aggregateRepositoryToken,
  InjectAggregateRepository,
} from './aggregate-repository.provider.js';
export { type AggregatesOptions } from './aggregates.options.js';
export * from './cache/index.js';
export * from './snapshots/index.js';
