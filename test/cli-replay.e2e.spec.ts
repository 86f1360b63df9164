import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { PgSqlClient, PostgresEventStore } from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import { deposited, waitFor } from '../libs/core/test/tracking.fixture.js';

const LEDGER_PROCESS = fileURLToPath(
  new URL('./fixtures/ledger-process.mjs', import.meta.url),
);
const CLI = fileURLToPath(
  new URL('../libs/core/dist/cli/main.js', import.meta.url),
);

const PROGRESS =
  /^replay "ledger": (\d+)\/300 events \((\d+)%\), \d+ events\/s, (time left unknown|\d.* left)$/;

/** `npx chronicle replay` without a terminal: plain progress lines, then the total. */
describe('chronicle replay shows its progress', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const client = PgSqlClient.fromPool(pool);
  let schema: string;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    schema = freshSchema('e2e_rpl');
    const store = new PostgresEventStore(client, schema);
    await store.migrate();
    await pool.query(
      `CREATE TABLE "${schema}".ledger (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, stream_id text NOT NULL, version int NOT NULL, instance text NOT NULL)`,
    );
    for (let s = 0; s < 10; s++) {
      const id = `acct-${s}`;
      for (let round = 0; round < 3; round++) {
        await store.append(
          id,
          Array.from({ length: 10 }, () => deposited(id, 1)),
        );
      }
    }
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    child = undefined;
    await pool.query(
      `DROP SCHEMA IF EXISTS "${schema}", "${schema}_projections" CASCADE`,
    );
  });

  afterAll(() => pool.end());

  const ledgerCount = async () =>
    Number(
      (await pool.query(`SELECT count(*) AS n FROM "${schema}".ledger`)).rows[0]
        .n,
    );

  it('follows a replay from the beginning to the head: a line per change, then the total', async () => {
    child = spawn(process.execPath, [LEDGER_PROCESS], {
      env: {
        ...process.env,
        DATABASE_URL,
        SCHEMA: schema,
        INSTANCE: 'a',
        LEASE_MS: '2000',
        DELAY_MS: '10',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = await once(
      createInterface({ input: child.stdout! }),
      'line',
    );
    expect(line).toBe('ready');
    await waitFor(async () => (await ledgerCount()) >= 300, 'the first run');

    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        CLI,
        'replay',
        'ledger',
        '--from',
        'beginning',
        '--interval',
        '200',
        '--schema',
        schema,
      ],
      { env: { ...process.env, DATABASE_URL } },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toContain('Replay of "ledger" requested');
    const progress = lines.filter((l) => PROGRESS.test(l));
    expect(progress.length).toBeGreaterThan(0);
    // No bar, no carriage returns: this is not a terminal.
    expect(stdout).not.toContain('\r');
    const done = progress.map((l) => Number(PROGRESS.exec(l)?.[1]));
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatch(
      /^replay "ledger": 300\/300 events \(100%\)/,
    );
    expect(lines.at(-1)).toMatch(
      /^Replay of "ledger" done: 300 events in \d+\.\d s\.$/,
    );
    // The replay really ran: the @OnReset hook cleared the ledger, and it holds every event once again.
    expect(await ledgerCount()).toBe(300);
  }, 120_000);
});
