import type { ConsumerDefinition } from './consumer-definition.js';
import { ConsumerSegmentsChangedError } from './tracking.errors.js';
import {
  claimSegments,
  ensureSegments,
  resegment,
  heartbeat,
  leaveInstances,
  pendingReset,
  releaseSegments,
  renewLeases,
  type SegmentRow,
} from './positions.js';
import type { AskedTarget } from './reset-target.js';
import { SegmentWorker, type TrackingEnvironment } from './segment-worker.js';

/**
 * Runs one consumer in this instance: keeps a heartbeat, claims its fair
 * share of segments (segments / live instances, rounded up), renews their
 * leases, gives extra ones back when more instances join, and runs a
 * `SegmentWorker` per segment it holds.
 */
export class ConsumerTracker {
  readonly workers = new Map<number, SegmentWorker>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private running = false;

  constructor(
    readonly definition: ConsumerDefinition,
    private readonly env: TrackingEnvironment,
    /** Applies a reset that the CLI requested (with the consumer's hooks). */
    private readonly applyRequestedReset: (to: AskedTarget) => Promise<void>,
  ) {}

  private get name(): string {
    return this.definition.name;
  }

  async start(): Promise<void> {
    const { segments, startFrom, sequenceBy, onSegmentsChanged } =
      this.definition.options;
    // One segment holds every event whatever the split: stored as by stream.
    const sequencedBy = sequenceBy && segments > 1 ? 'key' : 'stream';
    const stored = await ensureSegments(
      this.env.client,
      this.env.schema,
      this.name,
      segments,
      sequencedBy,
      async () =>
        startFrom === 'now'
          ? this.env.store.headCheckpoint()
          : { transactionId: 0n, position: 0n },
    );
    const other = stored.find(
      (s) => s.count !== segments || s.sequencedBy !== sequencedBy,
    );
    if (other !== undefined) {
      const refused =
        onSegmentsChanged === 'replay-from-oldest'
          ? await resegment(
              this.env.client,
              this.env.schema,
              this.name,
              segments,
              sequencedBy,
              this.env.owner,
            )
          : 'declared';
      if (refused !== undefined)
        throw new ConsumerSegmentsChangedError(
          this.name,
          { count: other.count, sequencedBy: other.sequencedBy },
          { count: segments, sequencedBy },
          refused,
        );
      this.env.logger.log(
        `Consumer "${this.name}" split the log anew: ${segments} segments by ${sequencedBy} (were ${other.count} by ${other.sequencedBy}); each starts at the oldest checkpoint of the old ones.`,
      );
    }
    this.running = true;
    await this.tick();
  }

  /** Wakes the segments this instance runs that read one of `types` (all when unknown). */
  wake(types?: readonly string[]): void {
    for (const worker of this.workers.values()) worker.wake(types);
  }

  /** Makes the segments this instance runs look for retries of parked streams now. */
  wakeForRetry(): void {
    for (const worker of this.workers.values()) worker.wakeForRetry();
  }

  /** Stops every segment, waits for their batches, and hands the segments back at once. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    await this.stopWorkers();
    await releaseSegments(
      this.env.client,
      this.env.schema,
      this.name,
      this.env.owner,
    );
    await leaveInstances(
      this.env.client,
      this.env.schema,
      this.name,
      this.env.owner,
    );
  }

  /** Stops the segments' work but keeps their leases (a reset runs in between). */
  async pause(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    await this.stopWorkers();
  }

  async resume(): Promise<void> {
    this.running = true;
    await this.tick();
  }

  private async stopWorkers(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }

  private schedule(): void {
    if (!this.running) return;
    // Renew well before the lease ends (a third of it, so two misses are
    // survivable), and look for free segments as often as an idle segment polls.
    const { leaseMs, maxPollIntervalMs } = this.env.options;
    const every = Math.max(50, Math.min(leaseMs / 3, maxPollIntervalMs));
    this.timer = setTimeout(() => {
      this.ticking = this.tick().catch((error: unknown) => {
        this.env.logger.warn(
          `Consumer "${this.name}": could not renew its segments: ${error instanceof Error ? error.message : String(error)}`,
        );
        this.schedule();
      });
    }, every);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    const { client, schema, owner, options } = this.env;
    const reset = await pendingReset(client, schema, this.name);
    if (reset) {
      // Not awaited: the reset pauses this tracker, which waits for this tick.
      void this.applyRequestedReset(reset).catch((error: unknown) => {
        this.env.logger.error(
          `Consumer "${this.name}": the requested replay failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        this.schedule();
      });
      return;
    }
    const live = await heartbeat(
      client,
      schema,
      this.name,
      owner,
      options.leaseMs,
    );
    const held = await renewLeases(
      client,
      schema,
      this.name,
      owner,
      options.leaseMs,
    );
    const heldSegments = new Set(held.map((row) => row.segment));
    // Segments another instance took (our lease ran out while we were away).
    for (const [segment, worker] of this.workers) {
      if (!heldSegments.has(segment) || worker.lost) {
        await worker.stop();
        this.workers.delete(segment);
      }
    }
    // More instances than before: give the segments beyond our share back.
    const fair = Math.ceil(this.definition.options.segments / live);
    const keep = [...held].sort((a, b) => a.segment - b.segment);
    const extra = keep.splice(fair).map((row) => row.segment);
    if (extra.length > 0) {
      for (const segment of extra) {
        await this.workers.get(segment)?.stop();
        this.workers.delete(segment);
      }
      await releaseSegments(client, schema, this.name, owner, extra);
    }
    for (const row of keep) this.startWorker(row);
    if (keep.length < fair && this.running) {
      const claimed = await claimSegments(
        client,
        schema,
        this.name,
        owner,
        options.leaseMs,
        fair - keep.length,
      );
      for (const row of claimed) this.startWorker(row);
    }
    this.schedule();
  }

  private startWorker(row: SegmentRow): void {
    if (!this.running || this.workers.has(row.segment)) return;
    const worker = new SegmentWorker(
      this.definition,
      row.segment,
      row.checkpoint,
      this.env,
    );
    // A stopped segment is retried when an instance (re)starts it: the handler may have been fixed.
    this.workers.set(row.segment, worker);
    worker.start();
  }
}
