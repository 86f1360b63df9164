import { UsageError } from './cli-database.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * An instant on the command line: a duration back from `now` (`30s`, `15m`,
 * `1h`, `2d`, `1w`, or several: `1h30m`) or an ISO 8601 date or date-time
 * (UTC when it names no zone).
 * `option` names the option in the usage error.
 */
export function instantArg(text: string, option: string, now: Date): Date {
  const duration = /^(?:\d+[smhdw])+$/.test(text)
    ? [...text.matchAll(/(\d+)([smhdw])/g)].reduce(
        (ms, [, n, unit]) => ms + Number(n) * UNIT_MS[unit],
        0,
      )
    : undefined;
  if (duration !== undefined) return new Date(now.getTime() - duration);
  if (/^\d{4}-\d\d-\d\d([T ][\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(text)) {
    // Without a zone, UTC (JavaScript would take a date-time as local time).
    const noZone = /[T ]/.test(text) && !/(Z|[+-]\d\d:?\d\d)$/.test(text);
    const date = new Date(noZone ? `${text.replace(' ', 'T')}Z` : text);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new UsageError(
    `${option} "${text}": give a duration back from now (30s, 15m, 1h, 2d, 1w) or an ISO date (2026-12-01 or 2026-12-01T10:00:00Z).`,
  );
}
