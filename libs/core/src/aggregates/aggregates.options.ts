import type { AggregateCacheOptions } from './cache/index.js';

/** `ChronicleModule.forRoot({ aggregates })`: how aggregates are loaded. */
export interface AggregatesOptions {
  /**
   * The per-process aggregate cache: its bounds, or `false` to turn it off.
   * Default: on, 1000 aggregates, about 64 MiB.
   */
  readonly cache?: AggregateCacheOptions | false;
  /**
   * Whether aggregates with a `snapshotEvery` option read and write snapshots.
   * Default `true`; `false` replays every stream from its start.
   */
  readonly snapshots?: boolean;
}
