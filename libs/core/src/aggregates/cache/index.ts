export {
  AggregateCache,
  type AggregateCacheOptions,
  type CachedAggregate,
} from './aggregate-cache.js';
