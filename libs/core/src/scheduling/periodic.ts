import { Cron } from 'croner';
import { durationMs, type Duration } from './duration.js';
import { InvalidScheduleError } from './scheduling.errors.js';

/** How often a periodic schedule fires: a fixed interval, or a cron expression in a time zone. */
export type PeriodicSpec =
  | { readonly every: Duration }
  | { readonly cron: string; readonly timeZone?: string };

/** A `PeriodicSpec` as stored: the interval in ms, the time zone explicit. */
export type StoredPeriodic =
  | { readonly every: number }
  | { readonly cron: string; readonly timeZone: string };

/** Validates a spec and puts it in its stored form. */
export function storedPeriodic(spec: PeriodicSpec): StoredPeriodic {
  if ('every' in spec) {
    const every = durationMs(spec.every, 'period');
    if (every < 1) {
      throw new InvalidScheduleError(
        `A periodic schedule needs a period of at least 1 ms, got ${JSON.stringify(spec.every)}`,
      );
    }
    return { every };
  }
  const stored = { cron: spec.cron, timeZone: spec.timeZone ?? 'UTC' };
  cronOf(stored); // throws when the expression or zone is wrong
  return stored;
}

function cronOf(spec: { cron: string; timeZone: string }): Cron {
  try {
    return new Cron(spec.cron, { timezone: spec.timeZone, paused: true });
  } catch (error) {
    throw new InvalidScheduleError(
      `Cron "${spec.cron}" in time zone "${spec.timeZone}" is not valid: ${(error as Error).message}`,
    );
  }
}

/**
 * The next occurrence after `previous` that is also after `now`: occurrences
 * missed while no instance ran fire once, not once each. The first
 * occurrence of a new schedule is `nextOccurrence(spec, now, now)`.
 */
export function nextOccurrence(
  spec: StoredPeriodic,
  previous: number,
  now: number,
): number {
  if ('every' in spec) {
    if (previous + spec.every > now) return previous + spec.every;
    const missed = Math.floor((now - previous) / spec.every);
    return previous + (missed + 1) * spec.every;
  }
  const cron = cronOf(spec);
  try {
    const next = cron.nextRun(new Date(Math.max(previous, now)));
    if (!next) {
      throw new InvalidScheduleError(
        `Cron "${spec.cron}" has no occurrence after ${new Date(now).toISOString()}`,
      );
    }
    return next.getTime();
  } finally {
    cron.stop();
  }
}
