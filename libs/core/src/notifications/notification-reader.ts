import type { Logger } from '@nestjs/common';
import type { FailureReporter } from '../handling/index.js';
import {
  attachEnvelope,
  eventInstanceOf,
  UnknownMessageTypeError,
  UnsupportedRevisionError,
  type EventUpcaster,
} from '../messages/index.js';
import type { Checkpoint, EventStore, StoredEvent } from '../store/index.js';
import type { NotificationHandlerFn } from './notification-explorer.js';
import type { ResolvedNotificationOptions } from './notifications.options.js';

/** What the reader needs from its process. */
export interface NotificationEnvironment {
  readonly store: EventStore;
  readonly upcaster: EventUpcaster;
  readonly options: ResolvedNotificationOptions;
  readonly logger: Logger;
  /** Where a failed handler becomes an error message; none when absent. */
  readonly failures?: FailureReporter;
}

/**
 * This instance's one loop over the live log: reads from where the log stood
 * at start, through the same safe read trackers use (only events of ended
 * transactions, in (transaction id, position) order), and hands each event to
 * the notification handlers of its type, one after the other. Its position
 * lives in memory only. A handler that fails is reported and skipped; one that
 * is slow holds back only this loop.
 */
export class NotificationReader {
  /** Events handed to handlers so far (tests and health read it). */
  delivered = 0;
  /** How many append signals reached this reader. */
  wakes = 0;
  /** Reads of the log so far, found something or not (tests wait on it). */
  reads = 0;
  private checkpointAt?: Checkpoint;
  private stopping = false;
  private wakeRequested = false;
  private wakeUp?: () => void;
  private loop?: Promise<void>;

  constructor(
    private readonly handlers: ReadonlyMap<string, NotificationHandlerFn[]>,
    private readonly env: NotificationEnvironment,
  ) {}

  /** Where the next read continues; undefined before `start`. */
  get checkpoint(): Checkpoint | undefined {
    return this.checkpointAt;
  }

  /** Takes "now" (the newest event a reader can see) and starts the loop. */
  async start(): Promise<void> {
    if (this.loop) return;
    this.checkpointAt = await this.env.store.headCheckpoint();
    this.loop = this.run();
  }

  /** New events may be there: read now rather than at the next poll. */
  wake(types?: readonly string[]): void {
    if (types && !types.some((type) => this.readTypes().includes(type))) return;
    this.wakes++;
    this.wakeRequested = true;
    this.wakeUp?.();
  }

  /**
   * Stops after the handler in hand; a handler that does not return within
   * `stopTimeoutMs` is left running, with a warning, so shutdown goes on.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    if (!this.loop) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), this.env.options.stopTimeoutMs);
      timer.unref();
    });
    const stuck = await Promise.race([this.loop.then(() => false), timedOut]);
    clearTimeout(timer);
    if (stuck) {
      this.env.logger.warn(
        `A notification handler was still running after ${this.env.options.stopTimeoutMs} ms; shutting down without it.`,
      );
    }
  }

  private async run(): Promise<void> {
    const { pollIntervalMs, maxPollIntervalMs, batchSize } = this.env.options;
    let idle = 0;
    while (!this.stopping) {
      try {
        const batch = await this.env.store.readAll({
          after: this.checkpointAt,
          limit: batchSize,
          types: this.readTypes(),
        });
        this.reads++;
        for (const event of batch.events) {
          if (this.stopping) return;
          await this.deliver(event);
        }
        this.checkpointAt = batch.checkpoint;
        if (!batch.caughtUp || batch.events.length > 0) {
          idle = 0;
          continue;
        }
        const woken = await this.pause(
          Math.min(maxPollIntervalMs, pollIntervalMs * 2 ** idle),
        );
        // A signal for an event not readable yet (an older transaction is
        // still open): look again soon, then back off, as trackers do.
        idle = woken ? -6 : Math.min(idle + 1, 16);
      } catch (error) {
        // The database is away, or the like: say so, wait, read again from
        // the same checkpoint (nothing of the failed read was delivered).
        this.env.logger.warn(
          `Notifications: ${describe(error)}; reading again`,
        );
        await this.pause(maxPollIntervalMs);
      }
    }
  }

  /** Every handler of the event, one after the other; a failure is reported and skipped. */
  private async deliver(stored: StoredEvent): Promise<void> {
    let events: readonly StoredEvent[];
    try {
      events = this.env.upcaster.upcastOne(stored);
    } catch (error) {
      const unknown =
        error instanceof UnknownMessageTypeError ||
        error instanceof UnsupportedRevisionError;
      // A type read only as an upcaster's source this app cannot read: not ours.
      if (unknown && !this.handlers.has(stored.type)) return;
      for (const handler of this.handlers.get(stored.type) ?? [])
        this.report(stored, handler.handlerName, error);
      return;
    }
    for (const event of events) {
      const handlers = this.handlers.get(event.type) ?? [];
      if (handlers.length === 0) continue;
      this.delivered++;
      for (const handler of handlers) {
        try {
          // Each handler gets its own instance: one cannot change what the next sees.
          const payload = eventInstanceOf(event);
          const envelope: StoredEvent<object> = { ...event, payload };
          attachEnvelope(payload, envelope);
          await handler(payload, envelope);
        } catch (error) {
          this.report(event, handler.handlerName, error);
        }
      }
    }
  }

  private report(event: StoredEvent, handler: string, error: unknown): void {
    this.env.failures?.report({
      kind: 'event',
      messageId: event.id,
      messageType: event.type,
      metadata: event.metadata,
      handler,
      error,
      attempt: 1,
      next: 'skipped',
    });
    this.env.logger.warn(
      `${handler} failed on ${event.type} at position ${event.position}; skipped: ${describe(error)}`,
    );
  }

  private readTypes(): readonly string[] {
    const types = [...this.handlers.keys()];
    const sources = this.env.upcaster.sourceTypes();
    return sources.length === 0 ? types : [...new Set([...types, ...sources])];
  }

  /** Waits `ms`, or less when woken; true when woken. */
  private async pause(ms: number): Promise<boolean> {
    if (this.stopping) return false;
    if (this.wakeRequested) {
      this.wakeRequested = false;
      return true;
    }
    const woken = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    this.wakeUp = undefined;
    this.wakeRequested = false;
    return woken;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
