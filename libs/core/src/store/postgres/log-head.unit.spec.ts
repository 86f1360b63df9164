import { committedIn } from './read-all.js';

describe('committedIn (which transactions a pg_snapshot saw as committed)', () => {
  const committed = committedIn('100:105:101,103');

  it('counts every transaction below xmin as committed', () => {
    expect(committed(1n)).toBe(true);
    expect(committed(99n)).toBe(true);
  });

  it('counts those between xmin and xmax committed unless listed as running', () => {
    expect(committed(100n)).toBe(true);
    expect(committed(101n)).toBe(false);
    expect(committed(102n)).toBe(true);
    expect(committed(103n)).toBe(false);
    expect(committed(104n)).toBe(true);
  });

  it('counts none from xmax on: they had not started', () => {
    expect(committed(105n)).toBe(false);
    expect(committed(10_000n)).toBe(false);
  });

  it('reads a snapshot with nothing running', () => {
    const quiet = committedIn('7:7:');
    expect(quiet(6n)).toBe(true);
    expect(quiet(7n)).toBe(false);
  });
});
