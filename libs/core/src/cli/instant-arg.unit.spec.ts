import { UsageError } from './cli-database.js';
import { instantArg } from './instant-arg.js';

describe('instantArg: --since and --until', () => {
  const now = new Date('2026-12-04T12:00:00Z');

  it.each([
    ['30s', '2026-12-04T11:59:30.000Z'],
    ['15m', '2026-12-04T11:45:00.000Z'],
    ['1h', '2026-12-04T11:00:00.000Z'],
    ['2d', '2026-12-02T12:00:00.000Z'],
    ['1w', '2026-11-27T12:00:00.000Z'],
    ['1h30m', '2026-12-04T10:30:00.000Z'],
  ])('reads the duration %s back from now', (text, expected) => {
    expect(instantArg(text, '--since', now).toISOString()).toBe(expected);
  });

  it.each([
    ['2026-12-01', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T10:00:00Z', '2026-12-01T10:00:00.000Z'],
    ['2026-12-01T10:00:00+02:00', '2026-12-01T08:00:00.000Z'],
    ['2026-12-01T10:00', '2026-12-01T10:00:00.000Z'],
    ['2026-12-01 10:00:00', '2026-12-01T10:00:00.000Z'],
  ])('reads the date %s, as UTC when it names no zone', (text, expected) => {
    expect(instantArg(text, '--since', now).toISOString()).toBe(expected);
  });

  it.each(['yesterday', '1y', '-1h', '2026-13-45', ''])(
    'refuses "%s", naming the option',
    (text) => {
      expect(() => instantArg(text, '--until', now)).toThrow(UsageError);
      expect(() => instantArg(text, '--until', now)).toThrow(/^--until "/);
    },
  );
});
