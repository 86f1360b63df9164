import ms from 'ms';
import { InvalidScheduleError } from './scheduling.errors.js';

/** A length of time: milliseconds, or text the `ms` package reads ('15m', '2 hours', '1d'). */
export type Duration = number | string;

/** A duration in milliseconds; throws `InvalidScheduleError` for text `ms` cannot read. */
export function durationMs(duration: Duration, what = 'duration'): number {
  const value =
    typeof duration === 'number'
      ? duration
      : ms(duration as Parameters<typeof ms>[0]);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidScheduleError(
      `The ${what} ${JSON.stringify(duration)} is not a length of time: give milliseconds or text like '15m', '2h', '1d'.`,
    );
  }
  return value;
}
