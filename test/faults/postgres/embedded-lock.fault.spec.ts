import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, fixture } from './support/app-process.js';
import { poll, report, tally } from './support/fault-report.js';

// Scenario h of the fault suite (docs/guides/faults-postgres.md): PGlite is one
// process's database. A second process opening the same data directory
// while the first writes must be refused with a clear error, and everything
// the first was told is stored must be there afterwards (issue 12, point 16:
// today both run, and acknowledged events are lost).

const COUNT = 400;

describe('fault suite: a second process on an embedded data directory', () => {
  let dataDir: string;
  const apps: AppProcess[] = [];

  beforeAll(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'chronicle-pglite-')), 'data');
  });

  afterAll(async () => {
    await Promise.all(apps.splice(0).map((app) => app.stop('SIGKILL')));
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  function start(
    name: string,
    script: string,
    env: Record<string, string> = {},
  ) {
    const app = AppProcess.start(name, fixture(script), {
      DATA_DIR: dataDir,
      INSTANCE: name,
      ...env,
    });
    apps.push(app);
    return app;
  }

  const acks = (app: AppProcess) =>
    app.lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));

  it('h. is refused with a clear error, and the first process keeps every acknowledged write', async () => {
    const first = start('first', 'embedded-writer', {
      COUNT: String(COUNT),
      PAUSE_MS: '5',
    });
    await first.ready();
    await poll(
      () => acks(first).length >= 50,
      'the first process to be writing',
    );

    const second = start('second', 'embedded-writer', {
      COUNT: String(COUNT),
      PAUSE_MS: '5',
    });
    await poll(
      () => !second.running || second.lines.includes('ready'),
      'the second process to be refused, or to start',
    );
    const refused = !second.lines.includes('ready');
    const writers = refused ? [first] : [first, second];
    for (const writer of writers) {
      await writer.waitForLine(/^done$/, 60_000);
      await writer.stop('SIGTERM'); // closes the database cleanly
    }

    const reader = start('reader', 'embedded-reader');
    await reader.waitForLine(/^done$/);
    const stored = reader.lines
      .filter((l) => l.startsWith('stored '))
      .map((l) => l.slice(7));
    report(
      'h. second process on an embedded data directory',
      tally(COUNT * writers.length, writers.flatMap(acks), stored),
      { 'second process not refused': refused ? 0 : 1 },
      refused ? undefined : 'the second process started and wrote too',
    );
    // Refused clearly: it names the directory and why, and exits non-zero.
    expect((await second.exited()).code).not.toBe(0);
    const said = `${second.errors()}\n${second.lines.join('\n')}`;
    expect(said).toContain(dataDir);
    expect(said).toMatch(/in use|lock|another process|already open/i);
  });
});
