import type { Logger } from '@nestjs/common';
import { newMessageId } from '../messages/index.js';
import type { Clock, CancelTimer } from './clock.js';
import type { ScheduleDelivery } from './schedule-delivery.js';
import { ScheduleRemovals } from './schedule-removals.js';
import type { ScheduleSignal } from './schedule-signal.js';
import type {
  ClaimedSchedule,
  Deliverable,
  ScheduleStore,
} from './schedule-store.js';
import type { ResolvedSchedulingOptions } from './scheduling.options.js';

/** How long to wait before trying LISTEN again after its connection was lost. */
const RELISTEN_MS = 5_000;

/** A delivery under way in this instance. */
interface InFlight {
  readonly claimed: ClaimedSchedule;
  readonly done: Promise<void>;
}

/**
 * The loop of one instance: claim due schedules (`FOR UPDATE SKIP LOCKED`, so
 * instances never claim the same row), as many as it has free delivery slots,
 * and start them at once; while they run, a heartbeat renews their claims.
 * A delivery that wrote nothing of its own frees its slot when it returns;
 * its row is removed (or re-armed) with others' in one statement, and stays
 * claimed, renewed and excluded here until then (`ScheduleRemovals`).
 * When nothing is due, sleep until the next due time, at most `pollInterval`,
 * or until a wake-up says a sooner schedule was written (this process's
 * signal, or the database's NOTIFY from any process). Times are the store's:
 * the database's clock, or a clock set by hand in tests.
 */
export class SchedulePoller {
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** Deliveries under way, by schedule id: renewed, and never claimed again here. */
  private readonly inFlight = new Map<string, InFlight>();
  /** Wakes the loop: set while it sleeps. */
  private wake: ((dueMs?: number) => void) | undefined;
  /** Resumes the loop: set while it waits for a delivery to finish. */
  private slotFreed: (() => void) | undefined;
  /** A wake-up arrived while the loop was busy: do not sleep next time. */
  private woken = false;
  private unsubscribe: (() => void) | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private listenRetryAt = 0;
  private heartbeat: CancelTimer | undefined;
  /** Rows delivered without writes of their own, waiting to be removed or re-armed. */
  private readonly removals: ScheduleRemovals;

  constructor(
    private readonly store: ScheduleStore,
    private readonly delivery: ScheduleDelivery,
    private readonly signal: ScheduleSignal,
    private readonly clock: Clock,
    private readonly options: ResolvedSchedulingOptions,
    private readonly logger: Logger,
    /** What this instance can deliver: its schedule types and periodic ids, the command types it knows, and those it handles. */
    private readonly types: Deliverable,
  ) {
    this.removals = new ScheduleRemovals(store, logger, (dueMs) =>
      this.onSignal(dueMs),
    );
  }

  /** Whether a NOTIFY connection is up (else only polling finds others' schedules). */
  get listening(): boolean {
    return this.unlisten !== undefined;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.signal.subscribe((dueMs) => this.onSignal(dueMs));
    await this.listen();
    this.loopDone = this.loop();
  }

  /** Stops claiming, waits (bounded) for deliveries under way, and releases every timer and connection. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    this.slotFreed?.();
    await this.loopDone;
    this.unsubscribe?.();
    await this.unlisten?.();
    this.unlisten = undefined;
    if (this.inFlight.size > 0 || this.removals.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        // Then the rows they delivered are removed (or re-armed).
        Promise.allSettled([...this.inFlight.values()].map((d) => d.done)).then(
          () => this.removals.drain(),
        ),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.options.shutdownTimeoutMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    }
    // Still running, or not recorded, after the timeout: their claims run
    // out, and another instance delivers them again (to no further effect
    // for those already delivered).
    this.inFlight.clear();
    this.heartbeat?.();
    this.heartbeat = undefined;
  }

  private onSignal(dueMs?: number): void {
    if (this.wake) this.wake(dueMs);
    else this.woken = true;
  }

  private async listen(): Promise<void> {
    const client = this.store.client;
    if (!client.listen || this.unlisten) return;
    try {
      this.unlisten = await client.listen(
        this.store.channel,
        (payload) => this.signal.notify(Number(payload) || undefined),
        (error) => {
          this.unlisten = undefined;
          this.listenRetryAt = Date.now() + RELISTEN_MS;
          this.logger.warn(
            `Lost the LISTEN connection (${error.message}); polling until it is back`,
          );
        },
      );
    } catch (error) {
      this.listenRetryAt = Date.now() + RELISTEN_MS;
      this.logger.warn(
        `Cannot LISTEN for new schedules (${(error as Error).message}); polling every ${this.options.pollIntervalMs} ms`,
      );
    }
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        if (!this.unlisten && Date.now() >= this.listenRetryAt) {
          await this.listen();
        }
        const room = Math.min(
          this.options.batchSize,
          this.options.concurrency - this.inFlight.size,
        );
        if (room <= 0) {
          await this.waitForSlot();
          continue;
        }
        this.woken = false;
        const claimed = await this.store.claim({
          types: this.types,
          token: newMessageId(),
          leaseMs: this.options.claimTimeoutMs,
          limit: room,
          excluding: this.held(),
        });
        for (const schedule of claimed) this.begin(schedule);
        if (claimed.length === room) continue; // more may be due right now
        await this.sleep();
      } catch (error) {
        if (!this.running) break;
        this.logger.error(
          `Polling schedules failed: ${(error as Error).message}`,
        );
        await this.sleepUntil(this.clock.nowMs() + this.options.pollIntervalMs);
      }
    }
  }

  /** Starts delivering a schedule just claimed, and keeps its claim renewed while it runs. */
  private begin(claimed: ClaimedSchedule): void {
    const done = this.delivery
      .deliver(claimed)
      .then((outcome) => {
        // Still held (renewed, excluded) until the batch records it.
        if (outcome.delivered) this.removals.add(outcome.delivered);
        // Due again (a retry, the next occurrence): sooner than planned, maybe.
        else if (outcome.dueAgainMs !== undefined)
          this.onSignal(outcome.dueAgainMs);
      })
      .catch((error: unknown) => {
        // Recording the outcome failed (database gone?): the claim runs out
        // and the schedule is delivered again, by this or another instance.
        this.logger.error(
          `Schedule ${claimed.id}: could not record the outcome: ${(error as Error).message}`,
        );
      })
      .finally(() => {
        this.inFlight.delete(claimed.id);
        this.slotFreed?.();
      });
    this.inFlight.set(claimed.id, { claimed, done });
    this.armHeartbeat();
  }

  /** The rows this instance holds: deliveries under way, and delivered rows not yet recorded. */
  private held(): string[] {
    const ids = [...this.inFlight.keys()];
    for (const claimed of this.removals.held) ids.push(claimed.id);
    return ids;
  }

  /** Renews the claims held a few times per lease, while there are any. */
  private armHeartbeat(): void {
    if (this.heartbeat) return;
    if (this.inFlight.size === 0 && this.removals.size === 0) return;
    const every = Math.max(1, Math.floor(this.options.claimTimeoutMs / 3));
    this.heartbeat = this.clock.setTimer(
      new Date(this.clock.nowMs() + every),
      () => void this.beat(),
    );
  }

  private async beat(): Promise<void> {
    const claims = [
      ...[...this.inFlight.values()].map((d) => d.claimed),
      ...this.removals.held,
    ];
    try {
      await this.store.renew(claims, this.options.claimTimeoutMs);
    } catch (error) {
      this.logger.warn(
        `Could not renew the claims of ${claims.length} deliveries under way: ${(error as Error).message}`,
      );
    } finally {
      // Re-armed only now, so a clock moved far ahead at once renews once.
      this.heartbeat = undefined;
      this.armHeartbeat();
    }
  }

  private waitForSlot(): Promise<void> {
    return new Promise((resolve) => {
      this.slotFreed = () => {
        this.slotFreed = undefined;
        resolve();
      };
    });
  }

  /** Sleeps until the next due time (at most `pollInterval`), or a sooner wake-up. */
  private async sleep(): Promise<void> {
    // The wait is measured from when the query looked: a clock moved (by a
    // test) while it ran must not push the wake-up further away.
    const lookedAt = this.clock.nowMs();
    const { waitMs, nowMs } = await this.store.nextWake(
      this.types,
      this.held(),
    );
    if (waitMs !== undefined && waitMs <= 0) {
      // Due now, yet not ours: another instance is claiming it at this very
      // moment. Look again in a (real) moment, rather than spin.
      await new Promise((resolve) => setTimeout(resolve, 5).unref());
      return;
    }
    const wait = Math.min(this.options.pollIntervalMs, waitMs ?? Infinity);
    await this.sleepUntil(lookedAt + wait, nowMs + wait);
  }

  /**
   * Sleeps until `at` by the clock, or until a wake-up for something due
   * before `wakeAtMs` (the store's time at which this sleep ends).
   */
  private async sleepUntil(at: number, wakeAtMs = Infinity): Promise<void> {
    if (!this.running || this.woken) return;
    await new Promise<void>((resolve) => {
      let cancel: CancelTimer = () => undefined;
      const done = () => {
        this.wake = undefined;
        cancel();
        resolve();
      };
      this.wake = (dueMs?: number) => {
        if (dueMs === undefined || dueMs < wakeAtMs) done();
      };
      cancel = this.clock.setTimer(new Date(at), done);
    });
  }
}
