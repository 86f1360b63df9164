import { ManualClock } from './manual-clock.js';
import { nextOccurrence, storedPeriodic } from './periodic.js';
import { InvalidScheduleError } from './scheduling.errors.js';
import { resolveSchedulingOptions } from './scheduling.options.js';

describe('ManualClock', () => {
  it('fires timers in time order only as time is moved past them', () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const fired: string[] = [];
    clock.setTimer(new Date('2026-01-01T00:10:00Z'), () => fired.push('10m'));
    clock.setTimer(new Date('2026-01-01T00:05:00Z'), () => fired.push('5m'));
    const cancel = clock.setTimer(new Date('2026-01-01T00:07:00Z'), () =>
      fired.push('cancelled'),
    );
    cancel();
    clock.advanceTimeBy('4m');
    expect(fired).toEqual([]);
    clock.advanceTimeBy('15m');
    expect(fired).toEqual(['5m', '10m']);
    expect(clock.now()).toEqual(new Date('2026-01-01T00:19:00Z'));
    expect(() => clock.setTime(0)).toThrow(RangeError);
  });
});

describe('periodic occurrences', () => {
  const at = (iso: string) => new Date(iso).getTime();

  it('steps by the interval, firing missed occurrences once', () => {
    const every = storedPeriodic({ every: '5m' });
    const t0 = at('2026-01-01T00:00:00Z');
    expect(nextOccurrence(every, t0, t0)).toBe(t0 + 300_000);
    // Down for 23 minutes: the next one is the first after now, not 4 in a row.
    expect(nextOccurrence(every, t0, t0 + 23 * 60_000)).toBe(t0 + 25 * 60_000);
  });

  it('follows cron in its time zone across a daylight-saving change', () => {
    const cron = storedPeriodic({
      cron: '0 3 * * *',
      timeZone: 'Europe/Amsterdam',
    });
    const sat = at('2026-03-28T12:00:00Z');
    expect(nextOccurrence(cron, sat, sat)).toBe(at('2026-03-29T01:00:00Z'));
    const sun = at('2026-03-29T12:00:00Z');
    expect(nextOccurrence(cron, sun, sun)).toBe(at('2026-03-30T01:00:00Z'));
  });

  it('refuses what cannot be a schedule', () => {
    expect(() => storedPeriodic({ cron: 'every tuesday' })).toThrow(
      InvalidScheduleError,
    );
    expect(() => storedPeriodic({ every: 'often' })).toThrow(
      InvalidScheduleError,
    );
  });
});

describe('scheduling options', () => {
  it('refuses counts and a claim lease that would stall or spin the poller, and says which', () => {
    expect(() => resolveSchedulingOptions({ concurrency: 0 })).toThrow(
      /scheduling\.concurrency must be a whole number of at least 1, got 0/,
    );
    expect(() => resolveSchedulingOptions({ batchSize: 2.5 })).toThrow(
      InvalidScheduleError,
    );
    expect(() => resolveSchedulingOptions({ claimTimeout: 10 })).toThrow(
      /scheduling\.claimTimeout must be at least 100 ms, got 10/,
    );
    expect(resolveSchedulingOptions({ claimTimeout: '2s' })).toMatchObject({
      claimTimeoutMs: 2_000,
      concurrency: 8,
    });
  });
});
