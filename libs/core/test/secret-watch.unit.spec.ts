import { secret, watchOutput } from './secret-watch.js';

describe('the secret watch every spec file runs under', () => {
  it('finds a registered secret in what is printed, without repeating it', () => {
    const value = secret('hunter2-correct-horse');
    const stop = watchOutput();
    console.info('nothing to see');
    process.stdout.write(`connecting with ${value.toUpperCase()}\n`);
    expect(stop()).toEqual([]);

    const again = watchOutput();
    process.stdout.write(`connecting with ${value}\n`);
    const leaks = again();
    expect(leaks.length).toBeGreaterThan(0);
    expect(
      leaks.every((l) => l.startsWith('stdout') && !l.includes(value)),
    ).toBe(true);
  });
});
