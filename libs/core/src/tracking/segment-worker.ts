import { Logger } from '@nestjs/common';
import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Link,
} from '@opentelemetry/api';
import type { FailureReporter } from '../handling/index.js';
import {
  outcomeOf,
  UnknownMessageTypeError,
  UnsupportedRevisionError,
  type EventUpcaster,
} from '../messages/index.js';
import {
  isDatabaseUnavailable,
  runInAmbientTransaction,
  sqlStateOf,
  type Checkpoint,
  type EventStore,
  type ReadAllBatch,
  type SqlClient,
  type StoredEvent,
  type StoreSchema,
} from '../store/index.js';
import {
  ATTR,
  inSpan,
  secondsSince,
  traceContextOf,
  traceLinkOf,
  type Telemetry,
} from '../telemetry/index.js';
import { BatchTransaction, type ContextSending } from './consumer-context.js';
import type { ConsumerDefinition } from './consumer-definition.js';
import type {
  ResolvedTrackingOptions,
  SequenceKey,
} from './consumer.options.js';
import { recordDeadLetter } from './dead-letters.js';
import { deserializeEvent } from './deserialize-event.js';
import { segmentOfKey } from './sequence-key.js';
import { readSegments, recordError, savePosition } from './positions.js';
import { SegmentParking } from './segment-parking.js';

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
  /** Metrics of batches and handlings; none when absent. */
  readonly telemetry?: Telemetry;
  /** Where each failed attempt becomes an error message; none when absent. */
  readonly failures?: FailureReporter;
  /** What consumers' contexts send and schedule through; none when absent. */
  readonly sending?: ContextSending;
}

/** The position moved under us (a reset) or the segment has another owner now. */
class PositionMoved extends Error {}

/** Shutdown arrived while an event was waiting for its next try. */
class Stopping extends Error {}

const MAX_RETRY_DELAY_MS = 30_000;

/** SQLSTATE of a statement sent in a transaction an earlier statement aborted. */
const IN_FAILED_TRANSACTION = '25P02';

/** The first failure of a batch run without savepoints: that event's first attempt. */
interface OptimisticFailure {
  readonly index: number;
  readonly error: unknown;
}

/** How a batch run without savepoints went. */
interface OptimisticRun {
  /** The first event that ran with the transaction open (the ones before it wrote nothing in it). */
  readonly firstInTransaction?: number;
  /** Where it stopped short; undefined when every event ran. */
  readonly stoppedAt?: number;
  /** The handler failure it stopped at, if it was one (not an aborted transaction). */
  readonly failure?: OptimisticFailure;
}

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
  /** How many wake-ups reached this segment (tests read it; nothing else does). */
  wakes = 0;

  private stopping = false;
  private wakeRequested = false;
  private wakeUp?: () => void;
  private interrupt?: () => void;
  private loop?: Promise<void>;
  /** While a rebuild runs: the live version's lowest checkpoint when the batch began. */
  private replayHorizon?: Checkpoint;
  /** The handler whose failure the last `invoke` threw, for its error message. */
  private failedHandler?: string;
  /** The streams this segment holds parked (`park` policy), and their retries. */
  private readonly parking: SegmentParking;
  private parkingLoaded = false;
  private retryAsked = false;

  constructor(
    readonly definition: ConsumerDefinition,
    readonly segment: number,
    public checkpoint: Checkpoint,
    private readonly env: TrackingEnvironment,
  ) {
    this.parking = new SegmentParking(
      {
        consumer: definition.name,
        segment,
        segments: definition.options.segments,
        owner: env.owner,
        client: env.client,
        schema: env.schema,
        store: env.store,
        transaction: () => this.transaction(),
        invoke: (event, tx) => this.invoke(event, tx),
        failed: (event, error) => this.warnRetryFailure(event, error),
        lost: () => new PositionMoved(),
        passesThrough: (error) =>
          error instanceof PositionMoved || error instanceof Stopping,
      },
      // Requests from other processes are looked for as often as an idle
      // segment polls at most; this process's own wake the segment at once.
      env.options.maxPollIntervalMs,
    );
  }

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * New events may be there: read now rather than at the next poll. Given the
   * types committed, only if this consumer reads one of them (without, always).
   */
  wake(types?: readonly string[]): void {
    if (types && !this.readsAnyOf(types)) return;
    this.wakes++;
    this.wakeRequested = true;
    this.wakeUp?.();
  }

  /** A retry of parked streams was asked for: look for it now rather than at the next poll. */
  wakeForRetry(): void {
    this.retryAsked = true;
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
        await this.runParkedRetries();
        const readAt = performance.now();
        const { batchSize, segments, sequenceBy } = this.definition.options;
        const byKey = segments > 1 ? sequenceBy : undefined;
        const read = await this.env.store.readAll({
          after: this.checkpoint,
          limit: batchSize,
          types: this.readTypes(),
          // Sequenced by key: every segment reads every event, keeps its keys.
          segment: byKey ? undefined : { index: this.segment, count: segments },
        });
        const batch = byKey ? this.ownKeys(read, byKey) : read;
        if (batch.events.length === 0) {
          await this.skipTo(batch.checkpoint);
          // A window of other types or segments: read on at once.
          if (!batch.caughtUp) {
            idle = 0;
            continue;
          }
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
        await this.handleInSpan(batch);
        this.env.telemetry?.metrics?.consumerBatchDuration.observe(
          { consumer: this.name },
          secondsSince(readAt),
        );
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

  /**
   * Loads the segment's parked streams once, then runs the retries asked
   * for them: here, by the segment's owner, between batches, so a live event
   * of a parked stream cannot pass the parked ones.
   */
  private async runParkedRetries(): Promise<void> {
    if (!this.parkingLoaded) {
      await this.parking.load();
      this.parkingLoaded = true;
    }
    const force = this.retryAsked;
    this.retryAsked = false;
    await this.parking.retryRequested(force);
  }

  /** After a failed position update: follow the row, or let the segment go. */
  private async reload(): Promise<void> {
    const row = (
      await readSegments(this.env.client, this.env.schema, this.name)
    ).find((r) => r.segment === this.segment);
    if (row?.owner === this.env.owner) {
      this.checkpoint = row.checkpoint;
      this.status = row.stopped ? 'stopped' : 'running';
      // A reset may have unparked streams: know them afresh.
      this.parkingLoaded = false;
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
   * The batch in a root span `consumer <name>` (a batch mixes events of many
   * traces), linked to the trace each event carries from its sender.
   */
  private handleInSpan(batch: ReadAllBatch): Promise<void> {
    const links: Link[] = [];
    const seen = new Set<unknown>();
    for (const event of batch.events) {
      const traceparent = event.metadata?.traceparent;
      if (seen.has(traceparent)) continue;
      seen.add(traceparent);
      const link = traceLinkOf(event.metadata);
      if (link) links.push(link);
    }
    return inSpan(
      `consumer ${this.name}`,
      {
        kind: SpanKind.CONSUMER,
        root: true,
        links,
        attributes: {
          [ATTR.operationType]: 'receive',
          [ATTR.operationName]: 'consume',
          [ATTR.consumerGroup]: this.name,
          [ATTR.consumer]: this.name,
          [ATTR.segment]: this.segment,
          [ATTR.batchSize]: batch.events.length,
        },
      },
      () => this.handleBatch(batch),
      ROOT_CONTEXT,
    );
  }

  /**
   * One batch, one transaction (opened by the first handler that asks for
   * it); the checkpoint commits with what the handlers wrote. With
   * `savepoints: 'on-failure'` the batch first runs without savepoints (no
   * round trip of its own per event); a failure sends it to the careful path.
   */
  private async handleBatch(batch: ReadAllBatch): Promise<void> {
    this.replayHorizon = await this.definition.replay?.horizon();
    if (this.definition.options.savepoints === 'every-event') {
      return this.handleCarefully(batch, this.transaction(), 0);
    }
    const tx = this.transaction();
    let run: OptimisticRun;
    try {
      run = await this.runOptimistically(batch, tx);
      if (run.stoppedAt === undefined) {
        try {
          return await this.commit(tx, batch.checkpoint);
        } catch (error) {
          // A handler swallowed a failed statement, so the transaction is
          // aborted: the careful run finds which event did it.
          if (error instanceof PositionMoved || isDatabaseUnavailable(error))
            throw error;
        }
      }
    } finally {
      await tx.rollback();
    }
    // Undone: run again from the first event that wrote in the transaction
    // (the ones before it are done), each event in a savepoint this time.
    const from = Math.min(
      run.firstInTransaction ?? batch.events.length,
      run.stoppedAt ?? batch.events.length,
    );
    return this.handleCarefully(batch, this.transaction(), from, run.failure);
  }

  /**
   * Runs the batch's events one after the other without savepoints, up to
   * the first failure, which counts as that event's first attempt.
   */
  private async runOptimistically(
    batch: ReadAllBatch,
    tx: BatchTransaction,
  ): Promise<OptimisticRun> {
    let firstInTransaction: number | undefined;
    for (let index = 0; index < batch.events.length; index++) {
      const event = batch.events[index];
      try {
        if (!(await this.parking.parkedBehind(event, tx)))
          await this.invoke(event, tx);
      } catch (error) {
        if (isDatabaseUnavailable(error)) throw error;
        const first = firstInTransaction ?? (tx.isOpen ? index : undefined);
        // The transaction was aborted before this event's statement, maybe
        // by an earlier event that swallowed its error: not this event's
        // attempt. The careful run blames the right one.
        if (sqlStateOf(error) === IN_FAILED_TRANSACTION)
          return { firstInTransaction: first, stoppedAt: index };
        this.warnFailure(event, 1, error);
        return {
          firstInTransaction: first,
          stoppedAt: index,
          failure: {
            index,
            error: error ?? new Error('handler threw nothing'),
          },
        };
      }
      // Once open, the transaction stays open: every later event may write in it.
      if (firstInTransaction === undefined && tx.isOpen)
        firstInTransaction = index;
    }
    return { firstInTransaction };
  }

  /**
   * The batch from `from` on (the events before it are done and wrote
   * nothing in the transaction), each event in a savepoint once the
   * transaction is open: tried, retried, then left to the error policy.
   * `failed`: the event whose first attempt already failed, and its error.
   */
  private async handleCarefully(
    batch: ReadAllBatch,
    tx: BatchTransaction,
    from: number,
    failed?: OptimisticFailure,
  ): Promise<void> {
    try {
      let done: Checkpoint | undefined =
        from > 0 ? checkpointOf(batch.events[from - 1]) : undefined;
      for (let index = from; index < batch.events.length; index++) {
        const event = batch.events[index];
        // A later event of a parked stream waits behind it, unhandled.
        const failure = (await this.parking.parkedBehind(event, tx))
          ? undefined
          : failed?.index === index
            ? await this.tryWithRetries(event, tx, 2, failed.error)
            : await this.tryWithRetries(event, tx);
        const { onError } = this.definition.options;
        if (failure !== undefined && onError === 'stop')
          return await this.stopAt(event, failure, tx, done);
        if (failure !== undefined && onError === 'park')
          await this.park(event, failure, tx);
        else if (failure !== undefined)
          await this.deadLetter(event, failure, tx);
        done = checkpointOf(event);
      }
      await this.commit(tx, batch.checkpoint);
    } catch (error) {
      await tx.rollback();
      throw error;
    }
  }

  /** Keeps what the batch did before the failing event, then stops the segment there. */
  private async stopAt(
    event: StoredEvent,
    failure: unknown,
    tx: BatchTransaction,
    done: Checkpoint | undefined,
  ): Promise<void> {
    if (done) await this.commit(tx, done);
    else await tx.rollback();
    await this.stopSegment(event, failure);
  }

  /** Logs a failed attempt, and reports it as an error message saying what comes next. */
  private warnFailure(
    event: StoredEvent,
    attempt: number,
    error: unknown,
  ): void {
    const { maxAttempts, onError } = this.definition.options;
    this.env.failures?.report({
      kind: 'event',
      messageId: event.id,
      messageType: event.type,
      metadata: event.metadata,
      handler: this.failedHandler ?? `consumer:${this.name}`,
      error,
      attempt,
      next:
        attempt < maxAttempts
          ? 'retry'
          : onError === 'stop'
            ? 'stopped'
            : onError === 'park'
              ? 'parked'
              : 'dead-letter',
    });
    this.env.logger.warn(
      `Consumer "${this.name}" failed on ${event.type} at position ${event.position} ` +
        `(attempt ${attempt} of ${this.definition.options.maxAttempts}): ${describe(error)}`,
    );
  }

  /**
   * Undefined when the event was handled; else the last error. Once the
   * transaction is open, each attempt runs in a savepoint: a failure undoes
   * this event's writes alone, and the events before it stay done (their
   * commands are not sent again, their writes not repeated). `firstAttempt`
   * 2 with `earlier`: the first attempt failed already, without a savepoint.
   */
  private async tryWithRetries(
    event: StoredEvent,
    tx: BatchTransaction,
    firstAttempt = 1,
    earlier: unknown = new Error('no attempt left'),
  ): Promise<unknown> {
    const { maxAttempts } = this.definition.options;
    let failure: unknown = earlier;
    for (let attempt = firstAttempt; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await this.pauseBeforeRetry(attempt);
      await tx.beginEvent();
      try {
        await this.invoke(event, tx);
        await tx.endEvent();
        return undefined;
      } catch (error) {
        // The database went away (a restart, a failover): not the handler's
        // failure, and no attempt of it. The batch is undone and read again
        // once the database answers; what it sent has derived ids.
        if (isDatabaseUnavailable(error)) throw error;
        failure = error ?? new Error('handler threw nothing');
        await tx.undoEvent();
        this.warnFailure(event, attempt, error);
      }
    }
    return failure;
  }

  /** Backs off before a retry; append signals must not hurry it, only a stop cuts it short. */
  private async pauseBeforeRetry(attempt: number): Promise<void> {
    const { retryDelayMs } = this.definition.options;
    await this.pause(
      Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** (attempt - 2)),
      false,
    );
    if (this.stopping) throw new Stopping();
  }

  private readsAnyOf(types: readonly string[]): boolean {
    const reads = this.readTypes();
    return types.some((type) => reads.includes(type));
  }

  /** The consumer's types, and the old types that upcasters may turn into them. */
  private readTypes(): readonly string[] {
    const sources = this.env.upcaster.sourceTypes();
    if (sources.length === 0) return this.definition.types;
    return [...new Set([...this.definition.types, ...sources])];
  }

  /** The batch's events whose sequence key hashes to this segment (keyless and unreadable ones: segment 0's). */
  private ownKeys(batch: ReadAllBatch, sequenceBy: SequenceKey): ReadAllBatch {
    const count = this.definition.options.segments;
    const segmentOf = (stored: StoredEvent): number => {
      try {
        const event = this.upcast(stored).find((e) =>
          this.definition.handlers.has(e.type),
        );
        if (!event) return 0;
        const { payload, envelope } = deserializeEvent(event);
        const key = sequenceBy(payload, envelope);
        return typeof key === 'string' ? segmentOfKey(key, count) : 0;
      } catch {
        // Its handling fails the same way, once, in segment 0.
        return 0;
      }
    };
    return {
      ...batch,
      events: batch.events.filter((e) => segmentOf(e) === this.segment),
    };
  }

  private async invoke(
    stored: StoredEvent,
    tx: BatchTransaction,
  ): Promise<void> {
    this.failedHandler = undefined;
    tx.replaying = this.isHistory(stored);
    for (const event of this.upcast(stored)) {
      const handlers = this.definition.handlers.get(event.type) ?? [];
      if (handlers.length === 0) continue;
      const { payload, envelope } = deserializeEvent(event);
      const context = tx.context(this.segment);
      // The store's statements may join the batch's transaction. Each handler
      // runs in its own message context (ConsumerExplorer wraps it), so what
      // it sends is caused by this event and gets ids derived from it.
      await this.process(stored, event.type, () =>
        runInAmbientTransaction(tx, async () => {
          for (const handler of handlers) {
            this.failedHandler = handler.handlerName;
            await handler(payload, envelope, context);
          }
          this.failedHandler = undefined;
        }),
      );
    }
  }

  /**
   * One handling of an event, counted and timed, in a span `process <type>`
   * that continues the trace the event was stored with (so a trace runs from
   * the command's sender to this consumer, however much later), linked to
   * the batch span; an event stored without one is a child of the batch.
   */
  private async process(
    stored: StoredEvent,
    type: string,
    fn: () => Promise<void>,
  ): Promise<void> {
    const batch = context.active();
    const batchSpan = trace.getSpanContext(batch);
    const storedParent = traceContextOf(stored.metadata);
    const links =
      storedParent && batchSpan && isSpanContextValid(batchSpan)
        ? [{ context: batchSpan }]
        : [];
    const metrics = this.env.telemetry?.metrics;
    const start = performance.now();
    try {
      await inSpan(
        `process ${type}`,
        {
          kind: SpanKind.CONSUMER,
          links,
          attributes: {
            [ATTR.operationType]: 'process',
            [ATTR.operationName]: 'process',
            [ATTR.consumerGroup]: this.name,
            [ATTR.messageType]: type,
            [ATTR.messageId]: stored.id,
            [ATTR.handler]: this.name,
            [ATTR.streamId]: stored.streamId,
            [ATTR.segment]: this.segment,
          },
        },
        fn,
        storedParent ?? batch,
      );
      metrics?.handled('event', type, this.name, secondsSince(start), 'ok');
    } catch (error) {
      metrics?.handled(
        'event',
        type,
        this.name,
        secondsSince(start),
        outcomeOf(error),
      );
      throw error;
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
      this.definition.consumer ?? this.name,
      this.definition.noEntityManager,
      this.env.sending,
    );
  }

  /** Whether the live version handled `event` already (see ReplayGate). */
  private isHistory(event: StoredEvent): boolean {
    const h = this.replayHorizon;
    if (!h) return false;
    return (
      event.transactionId < h.transactionId ||
      (event.transactionId === h.transactionId && event.position <= h.position)
    );
  }

  /** Moves the checkpoint past events this consumer does not handle, if the read scanned any. */
  private async skipTo(to: Checkpoint): Promise<void> {
    const { transactionId, position } = this.checkpoint;
    if (to.transactionId === transactionId && to.position === position) return;
    await this.commit(this.transaction(), to);
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

  /** Parks the event's stream: this event and every later one of its stream wait for a retry or a drop. */
  private async park(
    event: StoredEvent,
    error: unknown,
    tx: BatchTransaction,
  ): Promise<void> {
    const { maxAttempts } = this.definition.options;
    await this.parking.park(event, describe(error), maxAttempts, tx);
    this.lastError = {
      message: `${event.type} at position ${event.position} parked stream ${event.streamId}: ${describe(error)}`,
      at: new Date(),
    };
    this.env.logger.warn(
      `Consumer "${this.name}" parked stream ${event.streamId} at ${event.type} ` +
        `(position ${event.position}): its later events wait until it is retried or dropped.`,
    );
  }

  /** A parked event failed again when retried: it stays parked. */
  private warnRetryFailure(event: StoredEvent, error: unknown): void {
    this.env.failures?.report({
      kind: 'event',
      messageId: event.id,
      messageType: event.type,
      metadata: event.metadata,
      handler: this.failedHandler ?? `consumer:${this.name}`,
      error,
      attempt: this.definition.options.maxAttempts + 1,
      next: 'parked',
    });
    this.env.logger.warn(
      `Consumer "${this.name}" retried parked ${event.type} at position ${event.position} ` +
        `(stream ${event.streamId}); it failed again and stays parked: ${describe(error)}`,
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
