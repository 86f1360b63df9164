import { Logger } from '@nestjs/common';
import {
  MessageContext,
  UnknownMessageTypeError,
  UnsupportedRevisionError,
  type EventUpcaster,
} from '../messages/index.js';
import type {
  Checkpoint,
  EventStore,
  ReadAllBatch,
  SqlClient,
  StoredEvent,
  StoreSchema,
} from '../store/index.js';
import { BatchTransaction } from './consumer-context.js';
import type { ConsumerDefinition } from './consumer-definition.js';
import type { ResolvedTrackingOptions } from './consumer.options.js';
import { recordDeadLetter } from './dead-letters.js';
import { deserializeEvent } from './deserialize-event.js';
import { readSegments, recordError, savePosition } from './positions.js';

/** What every segment of a process shares. */
export interface TrackingEnvironment {
  readonly store: EventStore;
  /** Brings old stored events to the shapes the handlers know. */
  readonly upcaster: EventUpcaster;
  readonly client: SqlClient;
  readonly schema: StoreSchema;
  readonly owner: string;
  readonly options: ResolvedTrackingOptions;
  readonly logger: Logger;
}

/** The position moved under us (a reset) or the segment has another owner now. */
class PositionMoved extends Error {}

/** Shutdown arrived while an event was waiting for its next try. */
class Stopping extends Error {}

const MAX_RETRY_DELAY_MS = 30_000;

export type SegmentStatus = 'running' | 'stopped';

/**
 * Follows one segment of the log for one consumer: reads a batch after its
 * checkpoint, hands each event to the handlers, and moves the checkpoint in
 * the same transaction as whatever the handlers wrote through their context.
 */
export class SegmentWorker {
  status: SegmentStatus = 'running';
  lastError?: { readonly message: string; readonly at: Date };
  /** Set when another instance took the segment; the tracker drops this worker. */
  lost = false;

  private stopping = false;
  private wakeRequested = false;
  private wakeUp?: () => void;
  private interrupt?: () => void;
  private loop?: Promise<void>;

  constructor(
    readonly definition: ConsumerDefinition,
    readonly segment: number,
    public checkpoint: Checkpoint,
    private readonly env: TrackingEnvironment,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** New events may be there: read now rather than at the next poll. */
  wake(): void {
    this.wakeRequested = true;
    this.wakeUp?.();
  }

  /** Finishes the batch in hand (its retries are cut short), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.interrupt?.();
    await this.loop;
  }

  private get name(): string {
    return this.definition.name;
  }

  private async run(): Promise<void> {
    const { pollIntervalMs, maxPollIntervalMs } = this.env.options;
    let idle = 0;
    while (!this.stopping && !this.lost) {
      try {
        if (this.status === 'stopped') {
          await this.pause(maxPollIntervalMs);
          continue;
        }
        const batch = await this.env.store.readAll({
          after: this.checkpoint,
          limit: this.definition.options.batchSize,
          types: this.readTypes(),
          segment: {
            index: this.segment,
            count: this.definition.options.segments,
          },
        });
        if (batch.events.length === 0) {
          const woken = await this.pause(
            Math.min(maxPollIntervalMs, pollIntervalMs * 2 ** idle),
          );
          // A signal whose event is not readable yet (an older transaction,
          // anyone's, is still open): look again within a millisecond or so,
          // then back off from there, rather than wait for the next poll.
          idle = woken ? -6 : Math.min(idle + 1, 16);
          continue;
        }
        idle = 0;
        await this.handleBatch(batch);
      } catch (error) {
        if (error instanceof Stopping) return;
        if (error instanceof PositionMoved) {
          await this.reload();
          continue;
        }
        // The database is away, or the like: say so, wait, read again.
        this.lastError = { message: describe(error), at: new Date() };
        this.env.logger.warn(
          `Consumer "${this.name}" segment ${this.segment}: ${describe(error)}; retrying`,
        );
        await this.pause(maxPollIntervalMs);
      }
    }
  }

  /** After a failed position update: follow the row, or let the segment go. */
  private async reload(): Promise<void> {
    const row = (
      await readSegments(this.env.client, this.env.schema, this.name)
    ).find((r) => r.segment === this.segment);
    if (row?.owner === this.env.owner) {
      this.checkpoint = row.checkpoint;
      this.status = row.stopped ? 'stopped' : 'running';
    } else {
      this.lost = true;
    }
  }

  /**
   * Waits `ms`; a stop ends the wait, and so does a wake-up when `wakeable`.
   * Returns whether a wake-up ended it.
   */
  private async pause(ms: number, wakeable = true): Promise<boolean> {
    if (this.stopping) return false;
    if (wakeable && this.wakeRequested) {
      this.wakeRequested = false;
      return true;
    }
    const woken = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      const end = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.interrupt = end;
      if (wakeable) this.wakeUp = end;
    });
    this.interrupt = undefined;
    if (wakeable) {
      this.wakeUp = undefined;
      this.wakeRequested = false;
    }
    return woken;
  }

  /**
   * The fast path: every event once, no savepoints, one commit. If a handler
   * throws, the batch is undone and run again carefully, event by event.
   */
  private async handleBatch(batch: ReadAllBatch): Promise<void> {
    const tx = this.transaction();
    let handled = 0;
    try {
      for (const event of batch.events) {
        await this.invoke(event, tx);
        handled++;
      }
      await this.commit(tx, batch.checkpoint);
      return;
    } catch (error) {
      await tx.rollback();
      if (error instanceof PositionMoved) throw error;
      if (handled < batch.events.length)
        this.warnFailure(batch.events[handled], 1, error);
    }
    // Nothing was written in a transaction: the events before the failing
    // one are done, carry on from it. Otherwise their writes were undone too.
    // Either way the failing event has had its first try.
    const resumeAt = tx.isOpen ? 0 : handled;
    await this.handleCarefully(batch, resumeAt, handled);
  }

  private warnFailure(
    event: StoredEvent,
    attempt: number,
    error: unknown,
  ): void {
    this.env.logger.warn(
      `Consumer "${this.name}" failed on ${event.type} at position ${event.position} ` +
        `(attempt ${attempt} of ${this.definition.options.maxAttempts}): ${describe(error)}`,
    );
  }

  /** Each event in a savepoint, with retries; then the error policy. */
  private async handleCarefully(
    batch: ReadAllBatch,
    from: number,
    triedOnce: number,
  ): Promise<void> {
    const { onError } = this.definition.options;
    const tx = this.transaction();
    let done: Checkpoint | undefined =
      from > 0 ? checkpointOf(batch.events[from - 1]) : undefined;
    try {
      for (let i = from; i < batch.events.length; i++) {
        const event = batch.events[i];
        const failure = await this.tryWithRetries(
          event,
          tx,
          i === triedOnce ? 2 : 1,
        );
        if (failure !== undefined && onError === 'stop') {
          if (done) await this.commit(tx, done);
          else await tx.rollback();
          await this.stopSegment(event, failure);
          return;
        }
        if (failure !== undefined) await this.deadLetter(event, failure, tx);
        done = checkpointOf(event);
      }
      await this.commit(tx, batch.checkpoint);
    } catch (error) {
      await tx.rollback();
      throw error;
    }
  }

  /** Undefined when the event was handled; else the last error. */
  private async tryWithRetries(
    event: StoredEvent,
    tx: BatchTransaction,
    firstAttempt: number,
  ): Promise<unknown> {
    const { maxAttempts, retryDelayMs } = this.definition.options;
    let failure: unknown = new Error('no attempt left');
    for (let attempt = firstAttempt; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        // Append signals must not hurry a retry: only a stop cuts it short.
        await this.pause(
          Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** (attempt - 2)),
          false,
        );
        if (this.stopping) throw new Stopping();
      }
      await tx.beginEvent();
      try {
        await this.invoke(event, tx);
        await tx.endEvent();
        return undefined;
      } catch (error) {
        failure = error ?? new Error('handler threw nothing');
        await tx.undoEvent();
        this.warnFailure(event, attempt, error);
      }
    }
    return failure;
  }

  /** The consumer's types, and the old types that upcasters may turn into them. */
  private readTypes(): readonly string[] {
    const sources = this.env.upcaster.sourceTypes();
    if (sources.length === 0) return this.definition.types;
    return [...new Set([...this.definition.types, ...sources])];
  }

  private async invoke(
    stored: StoredEvent,
    tx: BatchTransaction,
  ): Promise<void> {
    for (const event of this.upcast(stored)) {
      const handlers = this.definition.handlers.get(event.type) ?? [];
      if (handlers.length === 0) continue;
      const { payload, envelope } = deserializeEvent(event);
      const context = tx.context(this.segment);
      // Commands sent from a handler are caused by, and correlated with, this event.
      await MessageContext.run(envelope, async () => {
        for (const handler of handlers) {
          await handler(payload, envelope, context);
        }
      });
    }
  }

  /**
   * What a stored event reads as today. An event this consumer does not handle
   * may be of a type this app does not know at all: that is none of its business.
   * For its own types, an unknown revision fails like a handler would.
   */
  private upcast(stored: StoredEvent): readonly StoredEvent[] {
    try {
      return this.env.upcaster.upcastOne(stored);
    } catch (error) {
      const unknown =
        error instanceof UnknownMessageTypeError ||
        error instanceof UnsupportedRevisionError;
      if (unknown && !this.definition.handlers.has(stored.type)) return [];
      throw error;
    }
  }

  private transaction(): BatchTransaction {
    return new BatchTransaction(
      this.definition.opener,
      this.name,
      this.definition.noEntityManager,
    );
  }

  /** Moves the checkpoint, in the batch's transaction when a handler opened it. */
  private async commit(tx: BatchTransaction, to: Checkpoint): Promise<void> {
    const client = tx.isOpen ? (await tx.transaction()).sql : this.env.client;
    const saved = await savePosition(
      client,
      this.env.schema,
      this.name,
      this.segment,
      this.env.owner,
      this.checkpoint,
      to,
    );
    if (!saved) {
      await tx.rollback();
      throw new PositionMoved();
    }
    await tx.commit();
    this.checkpoint = to;
  }

  private async stopSegment(event: StoredEvent, error: unknown): Promise<void> {
    const message = `${event.type} at position ${event.position} (stream ${event.streamId}): ${describe(error)}`;
    this.status = 'stopped';
    this.lastError = { message, at: new Date() };
    this.env.logger.error(
      `Consumer "${this.name}" stopped segment ${this.segment} on ${message}. ` +
        'Fix the handler and restart, or reset the consumer.',
    );
    await recordError(
      this.env.client,
      this.env.schema,
      this.name,
      this.segment,
      message,
      true,
    );
  }

  private async deadLetter(
    event: StoredEvent,
    error: unknown,
    tx: BatchTransaction,
  ): Promise<void> {
    const client = tx.isOpen ? (await tx.transaction()).sql : this.env.client;
    await recordDeadLetter(client, this.env.schema, {
      consumer: this.name,
      segment: this.segment,
      event,
      attempts: this.definition.options.maxAttempts,
      error: describe(error),
    });
    this.lastError = {
      message: `${event.type} at position ${event.position} skipped: ${describe(error)}`,
      at: new Date(),
    };
  }
}

function checkpointOf(event: StoredEvent): Checkpoint {
  return { transactionId: event.transactionId, position: event.position };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
