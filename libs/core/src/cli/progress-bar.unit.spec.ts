import type { ReplayProgress } from '../tracking/index.js';
import {
  finishedLine,
  formatDuration,
  progressBar,
  progressLine,
} from './progress-bar.js';

const progress = (over: Partial<ReplayProgress>): ReplayProgress => ({
  consumer: 'ledger',
  done: 0,
  total: 200,
  ratePerSecond: 0,
  secondsLeft: null,
  elapsedSeconds: 0,
  stopped: false,
  finished: false,
  ...over,
});

describe('replay progress, as printed', () => {
  it('a bar on a terminal: filled in proportion, with counts, rate and time left', () => {
    expect(progressBar(progress({}))).toBe(
      `[${'.'.repeat(30)}]   0% 0/200 events, 0 events/s, time left unknown`,
    );
    expect(
      progressBar(
        progress({ done: 100, ratePerSecond: 49.6, secondsLeft: 2.01 }),
      ),
    ).toBe(
      `[${'#'.repeat(15)}${'.'.repeat(15)}]  50% 100/200 events, 50 events/s, 3 s left`,
    );
  });

  it('a plain line elsewhere, and a closing line', () => {
    expect(
      progressLine(progress({ done: 150, ratePerSecond: 10, secondsLeft: 5 })),
    ).toBe('replay "ledger": 150/200 events (75%), 10 events/s, 5 s left');
    expect(
      finishedLine(
        progress({ done: 200, finished: true, elapsedSeconds: 3.04 }),
      ),
    ).toBe('Replay of "ledger" done: 200 events in 3.0 s.');
  });

  it('an empty replay is complete, not a division by zero', () => {
    expect(progressLine(progress({ total: 0, finished: true }))).toContain(
      '0/0 events (100%)',
    );
  });

  it('time left in seconds, minutes or hours', () => {
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(65)).toBe('1 m 05 s');
    expect(formatDuration(3 * 3600 + 7 * 60)).toBe('3 h 07 m');
  });
});
