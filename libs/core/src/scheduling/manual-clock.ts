import { Clock, type CancelTimer } from './clock.js';
import { durationMs, type Duration } from './duration.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to: for tests (and the testing fixture's
 * `advanceTimeBy`). Timers fire, in time order, as `advanceTimeBy`/`setTime`
 * pass them; nothing happens in between, so a test decides exactly when
 * schedules come due.
 */
export class ManualClock extends Clock {
  private current: number;
  private timers: Timer[] = [];
  private seq = 0;

  constructor(start: Date | number = Date.now()) {
    super();
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  override nowMs(): number {
    return this.current;
  }

  setTimer(at: Date, fn: () => void): CancelTimer {
    const timer = { at: at.getTime(), seq: this.seq++, fn };
    if (timer.at <= this.current) {
      // Due already: fire on the next turn, as a real timer of 0 ms would.
      queueMicrotask(fn);
      return () => undefined;
    }
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `duration` ('15m', or ms), firing the timers it passes. */
  advanceTimeBy(duration: Duration): Date {
    return this.setTime(this.current + durationMs(duration));
  }

  /** Moves time to `at` (never backwards), firing the timers it passes. */
  setTime(at: Date | number): Date {
    const target = typeof at === 'number' ? at : at.getTime();
    if (target < this.current) {
      throw new RangeError(
        `A ManualClock does not go back in time (now ${this.now().toISOString()}, asked for ${new Date(target).toISOString()})`,
      );
    }
    for (;;) {
      const next = this.timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = target;
    return this.now();
  }

  /** How many timers are waiting: lets a test see that a poller went to sleep. */
  get pendingTimers(): number {
    return this.timers.length;
  }
}
