import type { AppendedTypes } from './append-signal.js';
import {
  LOG_START,
  type Checkpoint,
  type EventStore,
  type StoredEvent,
} from './event-store.js';
import { PostgresEventStore } from './postgres/index.js';

// Why here and not in notifications/: following the log is a read of the
// store and of its own append signal, nothing more (no handlers, no
// upcasting, no error policy), so it belongs beside `readAll`. The
// notification reader keeps its own loop because it adds what a follower
// must not impose on its callers: delivery to handlers, backing off when
// idle, and reading on through a failing database.

/** Quick looks after a wake-up that found nothing readable yet: 10, 20 ... 320 ms, then every 320 ms until it reads on. */
const SOON_TRIES = 6;

export interface FollowLogOptions {
  /**
   * Follow from after this place in the log: `LOG_START` for the beginning,
   * an event's checkpoint to resume right after it. Default: now, only what
   * commits from here on (`EventStore.logHead`: an event that had committed
   * but was still held back by an older open transaction is passed over).
   */
  readonly after?: Checkpoint;
  /** Only events of these types. Default: every type. */
  readonly types?: readonly string[];
  /** How often a caught-up follower looks again without a wake-up. Default 1000 ms. */
  readonly pollMs?: number;
  /** Events per read of the log. Default 500. */
  readonly batchSize?: number;
  /** Ends the generator: at once while it waits, else after the read in hand. */
  readonly signal?: AbortSignal;
}

/** An event of the log with its place in it, where a follower resumes after it. */
export interface FollowedEvent {
  readonly event: StoredEvent;
  readonly checkpoint: Checkpoint;
}

/**
 * The committed events of the log, in log order, then live as they commit,
 * until `signal` aborts. It reads with `readAll` (the safe horizon: a late
 * commit is never skipped) and, once caught up, waits for the store's append
 * signal (`PostgresEventStore.signal`: in process, or relayed from other apps)
 * or `pollMs`, whichever comes first. The caller's pace is its back-pressure:
 * the next read waits until the events of the last one were taken. A failed
 * read throws out of the generator; nothing of it was yielded, so following
 * again from the last checkpoint taken loses nothing.
 *
 * ```ts
 * for await (const { event, checkpoint } of followLog(store, { after, signal })) { ... }
 * ```
 */
export async function* followLog(
  store: EventStore,
  options: FollowLogOptions = {},
): AsyncGenerator<FollowedEvent, void, undefined> {
  const { types, signal } = options;
  const pollMs = options.pollMs ?? 1000;
  const limit = options.batchSize ?? 500;
  if (signal?.aborted) return;
  const waiter = new Waiter(signal);
  const appended =
    store instanceof PostgresEventStore ? store.signal : undefined;
  const unsubscribe = appended?.subscribe((committed: AppendedTypes) => {
    if (!committed || !types || committed.some((t) => types.includes(t)))
      waiter.wake();
  });
  try {
    // Given no place: from the head, passing over what had committed before
    // it above the safe horizon (an older open transaction held it back).
    const head = options.after ? undefined : await store.logHead();
    let checkpoint = options.after ?? head?.checkpoint ?? LOG_START;
    // A wake-up can come before its events are readable (an older
    // transaction is still open): look again soon, a few times, then poll.
    let soon = 0;
    while (!signal?.aborted) {
      const batch = await store.readAll({ after: checkpoint, limit, types });
      if (
        batch.checkpoint.position !== checkpoint.position ||
        batch.checkpoint.transactionId !== checkpoint.transactionId
      )
        soon = 0;
      for (const event of batch.events) {
        if (signal?.aborted) return;
        if (head?.committedBefore(event.transactionId)) continue;
        yield {
          event,
          checkpoint: {
            transactionId: event.transactionId,
            position: event.position,
          },
        };
      }
      checkpoint = batch.checkpoint;
      if (!batch.caughtUp) continue;
      const woken = await waiter.wait(
        soon > 0 ? Math.min(pollMs, 10 * 2 ** (SOON_TRIES - soon)) : pollMs,
      );
      // A wake-up promises a commit: look every 320 ms at the most until it
      // is readable (another transaction may hold the horizon back a while).
      soon = woken ? SOON_TRIES : soon > 0 ? Math.max(1, soon - 1) : 0;
    }
  } finally {
    unsubscribe?.();
    waiter.close();
  }
}

/** A pause that a wake-up or an abort ends early; a wake-up during a read is kept for the next pause. */
class Waiter {
  private woken = false;
  private resolve?: () => void;
  private readonly onAbort = () => this.resolve?.();

  constructor(private readonly signal: AbortSignal | undefined) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  wake(): void {
    this.woken = true;
    this.resolve?.();
  }

  /** Waits `ms`, or less when woken or aborted; true when woken. */
  async wait(ms: number): Promise<boolean> {
    if (this.woken || this.signal?.aborted) {
      this.woken = false;
      return true;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.resolve = done;
    });
    this.resolve = undefined;
    const woken = this.woken;
    this.woken = false;
    return woken;
  }

  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}
