/** Bounds of the per-process aggregate cache. */
export interface AggregateCacheOptions {
  /** The most aggregates kept. Default 1000; 0 turns the cache off. */
  readonly maxEntries?: number;
  /** About the most memory the cached states take, in bytes. Default 64 MiB. */
  readonly maxBytes?: number;
}

/** An aggregate's state at one version of its stream, as the cache keeps it. */
export interface CachedAggregate {
  readonly version: number;
  /** The state as JSON text: every load rebuilds a fresh instance from it. */
  readonly stateJson: string;
  /** The version of the newest snapshot known when it was cached; 0 when none. */
  readonly snapshotVersion: number;
}

const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
// Per-entry bookkeeping (key, object, map slot), roughly.
const ENTRY_OVERHEAD = 200;

/**
 * A least-recently-used map from stream id to the newest state this process
 * has seen of it, bounded by count and by approximate size (JSON text is
 * UTF-16 in memory: 2 bytes a character).
 *
 * It holds states as text, not live aggregates: handlers change the instance
 * they load, so each load must get its own. A cached state is the state at its
 * version for ever (streams only grow), so it is never wrong, only old: loads
 * always read the events after it, which is how writes by other processes
 * show up. The append's version check guards everything else.
 */
export class AggregateCache {
  readonly maxEntries: number;
  readonly maxBytes: number;
  private readonly entries = new Map<string, CachedAggregate>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(options: AggregateCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** Whether the cache keeps anything at all. */
  get enabled(): boolean {
    return this.maxEntries > 0 && this.maxBytes > 0;
  }

  /** The cached state of a stream, marked as recently used. */
  get(streamId: string): CachedAggregate | undefined {
    const entry = this.entries.get(streamId);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    this.hits++;
    return entry;
  }

  /** Keeps a state unless the cache already holds a newer one of the stream. */
  set(streamId: string, entry: CachedAggregate): void {
    if (!this.enabled) return;
    const size = sizeOf(streamId, entry);
    if (size > this.maxBytes) return;
    const existing = this.entries.get(streamId);
    if (existing) {
      if (existing.version > entry.version) return;
      this.remove(streamId, existing);
    }
    this.entries.set(streamId, entry);
    this.bytes += size;
    for (const [key, oldest] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) {
        break;
      }
      this.remove(key, oldest);
    }
  }

  /**
   * Forgets a stream, or only a state no newer than `upToVersion` (what a
   * writer that lost a race had loaded): a newer one was cached after a commit.
   */
  delete(streamId: string, upToVersion = Number.MAX_SAFE_INTEGER): void {
    const existing = this.entries.get(streamId);
    if (existing && existing.version <= upToVersion) {
      this.remove(streamId, existing);
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /** Counters for metrics and tests. */
  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return {
      entries: this.entries.size,
      bytes: this.bytes,
      hits: this.hits,
      misses: this.misses,
    };
  }

  private remove(streamId: string, entry: CachedAggregate): void {
    this.entries.delete(streamId);
    this.bytes -= sizeOf(streamId, entry);
  }
}

function sizeOf(streamId: string, entry: CachedAggregate): number {
  return (streamId.length + entry.stateJson.length) * 2 + ENTRY_OVERHEAD;
}
