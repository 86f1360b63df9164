import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

// `npm start` is the first thing a newcomer runs: the built demo must work as a process.
describe('the demo (npm start)', () => {
  it('runs the orders scenario on the embedded store and prints the timeline', async () => {
    const { stdout } = await run(
      process.execPath,
      ['apps/orders/dist/demo.js'],
      {
        env: {
          ...process.env,
          DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        },
        timeout: 60_000,
      },
    );
    expect(stdout).toContain('embedded PGlite');
    expect(stdout).toMatch(
      /event {2}orders\.OrderPlaced +orders\.Order-o-1 v1/,
    );
    expect(stdout).toContain(
      'invalid lines[0].quantity: quantity must not be less than 1',
    );
    expect(stdout).toContain('at v1: placed; now (v2): confirmed');
    expect(stdout).toMatch(
      /4 {2}orders\.Order-o-2 +v2 {2}orders\.OrderCancelled/,
    );
    expect(stdout.trim().endsWith('Done.')).toBe(true);
  });
});
