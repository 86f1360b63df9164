/** Stops a timer that has not fired yet; harmless after it fired. */
export type CancelTimer = () => void;

/**
 * Where the scheduler gets the time from, and how it waits. A port, so that a
 * test can replace it with a `ManualClock` and move time by hand; everything
 * time-dependent in scheduling (due times, retries, claim leases, periodic
 * occurrences, the poller's sleep) goes through it. The system clock defers
 * to the database's clock for due times and leases (see `sqlNowMs`).
 */
export abstract class Clock {
  /** The current time. */
  abstract now(): Date;

  /**
   * Calls `fn` once, when the clock reaches `at` (at once if that has passed).
   * A timer never keeps the process alive on its own.
   */
  abstract setTimer(at: Date, fn: () => void): CancelTimer;

  /** The current time in epoch milliseconds. */
  nowMs(): number {
    return this.now().getTime();
  }

  /**
   * The time SQL takes as "now" for due times and claim leases, or undefined
   * to take the database's own clock. Instances on different machines agree
   * only on the database's clock, so the system clock defers to it; a clock
   * that is set by hand (a `ManualClock`) supplies its own time.
   */
  sqlNowMs(): number | undefined {
    return this.nowMs();
  }
}

/** The most `setTimeout` accepts (about 24.8 days); longer waits are chained. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** The real clock: `Date.now()` and unref'd `setTimeout`s. The default. */
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }

  override nowMs(): number {
    return Date.now();
  }

  override sqlNowMs(): undefined {
    return undefined;
  }

  setTimer(at: Date, fn: () => void): CancelTimer {
    let handle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const wait = at.getTime() - Date.now();
      if (wait > MAX_TIMEOUT_MS) {
        handle = setTimeout(arm, MAX_TIMEOUT_MS);
      } else {
        handle = setTimeout(fn, Math.max(0, wait));
      }
      handle.unref();
    };
    arm();
    return () => clearTimeout(handle);
  }
}
