import {
  isDatabaseUnavailable,
  type EventStore,
  type StoredEvent,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';
import type { BatchTransaction } from './consumer-context.js';
import {
  clearRetryRequest,
  lockParkedStream,
  parkBehind,
  parkedEventsOf,
  parkedStreamsOfSegment,
  parkStream,
  recordRetryFailure,
  unparkEvent,
} from './parked-streams.js';
import { lockOwnedSegment } from './positions.js';

/** What a segment's parking needs from its worker. */
export interface ParkingHost {
  readonly consumer: string;
  readonly segment: number;
  readonly segments: number;
  readonly owner: string;
  readonly client: SqlClient;
  readonly schema: StoreSchema;
  /** Where parked events are read back from (they stay in the log). */
  readonly store: EventStore;
  transaction(): BatchTransaction;
  /** Runs the handlers of an event in the transaction; throws what they throw. */
  invoke(event: StoredEvent, tx: BatchTransaction): Promise<void>;
  /** A retry attempt failed: logged and reported like any other failure. */
  failed(event: StoredEvent, error: unknown): void;
  /** The segment is not this instance's any more: what to throw. */
  lost(): Error;
  /** Errors that are not the handler's (the database away, the segment lost, a stop): thrown on. */
  passesThrough(error: unknown): boolean;
}

/** What a retry of one stream did. */
export interface StreamRetry {
  readonly applied: number;
  readonly error?: unknown;
}

/**
 * What one segment knows of its parked streams: loaded when the segment is
 * claimed, kept up to date as it parks and retries. A hint only: the rows
 * decide (a stream dropped from another process is found out when its next
 * event is parked, or at the next look for retry requests).
 */
export class SegmentParking {
  private readonly streams = new Set<string>();
  private lastLook = 0;

  constructor(
    private readonly host: ParkingHost,
    /** How often to look for retry requests while streams are parked. */
    private readonly lookEveryMs: number,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  async load(): Promise<void> {
    const rows = await this.rows();
    this.streams.clear();
    for (const row of rows) this.streams.add(row.stream);
  }

  /**
   * Parks `event` behind its stream when the stream is parked; false when
   * it is not (or not any more), so the event is handled.
   */
  async parkedBehind(
    event: StoredEvent,
    tx: BatchTransaction,
  ): Promise<boolean> {
    if (!this.streams.has(event.streamId)) return false;
    const { sql } = await tx.transaction();
    const { consumer, schema } = this.host;
    if (await parkBehind(sql, schema, consumer, event)) return true;
    this.streams.delete(event.streamId);
    return false;
  }

  /** Parks the stream at `event`, which failed `attempts` times, in the batch's transaction. */
  async park(
    event: StoredEvent,
    error: string,
    attempts: number,
    tx: BatchTransaction,
  ): Promise<void> {
    const { sql } = await tx.transaction();
    await parkStream(
      sql,
      this.host.schema,
      this.host.consumer,
      this.host.segment,
      event,
      error,
      attempts,
    );
    this.streams.add(event.streamId);
  }

  /**
   * Runs the retries asked for this segment's streams (at most every
   * `lookEveryMs`, and only while some stream is parked), each stream's
   * parked events in order, each in a transaction with its unparking.
   */
  async retryRequested(force = false): Promise<void> {
    if (this.streams.size === 0) return;
    const now = performance.now();
    if (!force && now - this.lastLook < this.lookEveryMs) return;
    this.lastLook = now;
    const rows = await this.rows();
    this.streams.clear();
    for (const row of rows) this.streams.add(row.stream);
    for (const row of rows) {
      if (row.requested) await this.retry(row.stream);
    }
  }

  private async read(
    stream: string,
    version: number,
  ): Promise<StoredEvent | undefined> {
    const range = { fromVersion: version, toVersion: version };
    for await (const event of this.host.store.readStream(stream, range))
      return event;
    return undefined;
  }

  private rows() {
    const { client, schema, consumer, segment, segments } = this.host;
    return parkedStreamsOfSegment(client, schema, consumer, segment, segments);
  }

  /** One stream's parked events, in order, up to the first that fails again. */
  private async retry(stream: string): Promise<StreamRetry> {
    const { client, schema, consumer } = this.host;
    const parked = await parkedEventsOf(client, schema, consumer, stream);
    let applied = 0;
    for (const { version } of parked) {
      const event = await this.read(stream, version);
      const tx = this.host.transaction();
      try {
        const { sql } = await tx.transaction();
        if (
          !(await lockOwnedSegment(
            sql,
            schema,
            consumer,
            this.host.segment,
            this.host.owner,
          ))
        )
          throw this.host.lost();
        // Dropped meanwhile: nothing left to apply.
        if (!(await lockParkedStream(sql, schema, consumer, stream))) {
          await tx.rollback();
          this.streams.delete(stream);
          return { applied };
        }
        if (!event)
          throw new Error(
            `event ${version} of stream ${stream} is not in the log`,
          );
        await this.host.invoke(event, tx);
        const { removed, unparked } = await unparkEvent(
          sql,
          schema,
          consumer,
          stream,
          version,
        );
        // Unparked meanwhile (a reset, whose replay handles it): undo, look again later.
        if (!removed) {
          await tx.rollback();
          return { applied };
        }
        await tx.commit();
        applied++;
        if (unparked) this.streams.delete(stream);
      } catch (error) {
        await tx.rollback();
        if (isDatabaseUnavailable(error) || this.host.passesThrough(error))
          throw error;
        const failure: unknown = error ?? new Error('handler threw nothing');
        if (event) this.host.failed(event, failure);
        await recordRetryFailure(
          client,
          schema,
          consumer,
          stream,
          describe(failure),
          applied === 0,
        );
        return { applied, error: failure };
      }
    }
    // Every event was applied, or none was left (a drop): the request is answered either way.
    await clearRetryRequest(client, schema, consumer, stream);
    return { applied };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
