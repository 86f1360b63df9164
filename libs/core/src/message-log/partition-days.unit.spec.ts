import {
  addDays,
  dayOf,
  firstKeptDay,
  parsePartitionName,
  partitionName,
  startOf,
} from './partition-days.js';
import { LOGGED_KINDS } from './log-entry.js';

describe('partition days', () => {
  it('cuts days at midnight UTC, whatever the local time zone', () => {
    expect(dayOf(new Date('2026-12-04T23:59:59.999Z'))).toBe('20261204');
    expect(dayOf(new Date('2026-12-05T00:00:00.000Z'))).toBe('20261205');
    expect(dayOf(new Date('2026-12-05T00:30:00+01:00'))).toBe('20261204');
    expect(startOf('20261204').toISOString()).toBe('2026-12-04T00:00:00.000Z');
  });

  it('counts days across months, years and leap days', () => {
    expect(addDays('20261231', 1)).toBe('20270101');
    expect(addDays('20280228', 1)).toBe('20280229');
    expect(addDays('20260301', -1)).toBe('20260228');
  });

  it('keeps a day until all of it is older than the retention', () => {
    // Kept 1 day: a row of the 4th goes once the 6th has begun, not on the 5th.
    expect(firstKeptDay(new Date('2026-12-05T23:00:00Z'), 1)).toBe('20261204');
    expect(firstKeptDay(new Date('2026-12-06T00:00:00Z'), 1)).toBe('20261205');
    expect(firstKeptDay(new Date('2026-12-31T12:00:00Z'), 30)).toBe('20261201');
  });

  it('reads back only the names it makes', () => {
    const name = partitionName('command', '20261204');
    expect(name).toBe('message_log_command_20261204');
    expect(parsePartitionName(name, LOGGED_KINDS)).toEqual({
      kind: 'command',
      day: '20261204',
    });
    for (const other of [
      'message_log_default',
      'message_log_audit_20261204',
      'message_log_command_20261304',
      'message_log_command_2026120',
      'message_log_command_20261204_old',
    ]) {
      expect(parsePartitionName(other, LOGGED_KINDS)).toBeUndefined();
    }
  });
});
