import type { Logger } from '@nestjs/common';
import { newMessageId } from '../messages/index.js';
import type { Clock, CancelTimer } from './clock.js';
import type { ScheduleDelivery } from './schedule-delivery.js';
import type { ScheduleSignal } from './schedule-signal.js';
import type { ClaimedSchedule, ScheduleStore } from './schedule-store.js';
import type { ResolvedSchedulingOptions } from './scheduling.options.js';

/** How long to wait before trying LISTEN again after its connection was lost. */
const RELISTEN_MS = 5_000;

/**
 * The loop of one instance: claim due schedules (`FOR UPDATE SKIP LOCKED`, so
 * instances never claim the same row), deliver them a few at a time, and when
 * nothing is due, sleep until the next due time, at most `pollInterval`, or
 * until a wake-up says a sooner schedule was written (this process's signal,
 * or the database's NOTIFY from any process).
 */
export class SchedulePoller {
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly queue: ClaimedSchedule[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Wakes the loop: set while it sleeps. */
  private wake: ((dueMs?: number) => void) | undefined;
  /** Resumes the loop: set while it waits for a delivery to finish. */
  private slotFreed: (() => void) | undefined;
  /** A wake-up arrived while the loop was busy: do not sleep next time. */
  private woken = false;
  private unsubscribe: (() => void) | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private listenRetryAt = 0;

  constructor(
    private readonly store: ScheduleStore,
    private readonly delivery: ScheduleDelivery,
    private readonly signal: ScheduleSignal,
    private readonly clock: Clock,
    private readonly options: ResolvedSchedulingOptions,
    private readonly logger: Logger,
    /** What this instance can deliver: its schedule types and periodic ids, and the command types it knows. */
    private readonly types: readonly string[],
  ) {}

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
    // Claimed but not started: their claims run out and another instance takes them.
    this.queue.length = 0;
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(this.inFlight),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.options.shutdownTimeoutMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    }
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
        const room =
          this.options.batchSize - this.queue.length - this.inFlight.size;
        if (room <= 0) {
          await this.waitForSlot();
          continue;
        }
        this.woken = false;
        const nowMs = this.clock.nowMs();
        const claimed = await this.store.claim({
          nowMs,
          types: this.types,
          token: newMessageId(),
          leaseUntilMs: nowMs + this.options.claimTimeoutMs,
          limit: room,
        });
        this.queue.push(...claimed);
        this.pump();
        if (claimed.length === room) continue; // more may be due right now
        await this.sleep(nowMs);
      } catch (error) {
        if (!this.running) break;
        this.logger.error(
          `Polling schedules failed: ${(error as Error).message}`,
        );
        await this.sleepUntil(this.clock.nowMs() + this.options.pollIntervalMs);
      }
    }
  }

  /** Starts queued deliveries while fewer than `concurrency` run. */
  private pump(): void {
    while (
      this.running &&
      this.queue.length > 0 &&
      this.inFlight.size < this.options.concurrency
    ) {
      const claimed = this.queue.shift() as ClaimedSchedule;
      const delivery: Promise<void> = this.delivery
        .deliver(claimed)
        // Due again (a retry, the next occurrence): sooner than planned, maybe.
        .then((dueAgainMs) => {
          if (dueAgainMs !== undefined) this.onSignal(dueAgainMs);
        })
        .catch((error: unknown) => {
          // Recording the outcome failed (database gone?): the claim runs out
          // and the schedule is delivered again, by this or another instance.
          this.logger.error(
            `Schedule ${claimed.id}: could not record the outcome: ${(error as Error).message}`,
          );
        })
        .finally(() => {
          this.inFlight.delete(delivery);
          this.pump();
          this.slotFreed?.();
        });
      this.inFlight.add(delivery);
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

  /**
   * Sleeps until the next due time (at most `pollInterval`), or a sooner
   * wake-up. `claimedAt` is the time the last claim looked at.
   */
  private async sleep(claimedAt: number): Promise<void> {
    const bound = this.clock.nowMs() + this.options.pollIntervalMs;
    const next = await this.store.nextWake(this.types);
    if (next !== undefined && next <= claimedAt) {
      // Due when we claimed, yet not ours: another instance is claiming it at
      // this very moment. Look again in a (real) moment, rather than spin.
      await new Promise((resolve) => setTimeout(resolve, 5).unref());
      return;
    }
    await this.sleepUntil(next === undefined ? bound : Math.min(bound, next));
  }

  private async sleepUntil(wakeAt: number): Promise<void> {
    if (!this.running || this.woken) return;
    await new Promise<void>((resolve) => {
      let cancel: CancelTimer = () => undefined;
      const done = () => {
        this.wake = undefined;
        cancel();
        resolve();
      };
      this.wake = (dueMs?: number) => {
        if (dueMs === undefined || dueMs < wakeAt) done();
      };
      cancel = this.clock.setTimer(new Date(wakeAt), done);
    });
  }
}
