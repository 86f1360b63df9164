import type { AggregateCacheOptions } from './cache/index.js';

/** `ChronicleModule.forRoot({ aggregates })`: how aggregates are loaded. */
export interface AggregatesOptions {
  /**
   * The per-process aggregate cache: `true` (1000 aggregates, about 64 MiB),
   * its bounds, or `false`. Default: off, because a cached state goes through
   * the aggregate's `toSnapshot()`/`fromSnapshot()`: turn it on once those keep
   * everything your aggregates hold.
   */
  readonly cache?: AggregateCacheOptions | boolean;
  /**
   * Whether aggregates with a `snapshotEvery` option read and write snapshots.
   * Default `true`; `false` replays every stream from its start.
   */
  readonly snapshots?: boolean;
}
