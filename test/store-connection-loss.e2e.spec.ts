import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgSqlClient, PostgresEventStore } from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import { deposited, waitFor } from '../libs/core/test/tracking.fixture.js';

const HELD_BATCH_PROCESS = fileURLToPath(
  new URL('./fixtures/held-batch-process.mjs', import.meta.url),
);

/**
 * A consumer's batch transaction loses its connection (what a PostgreSQL
 * restart does to every connection): the process stays up, and the batch is
 * handled again, once.
 */
describe('a connection killed under a consumer batch', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  let schema: string;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    schema = freshSchema('e2e_loss');
    await new PostgresEventStore(PgSqlClient.fromPool(pool), schema).migrate();
    await pool.query(
      `CREATE TABLE "${schema}".ledger (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, stream_id text NOT NULL, version int NOT NULL, instance text NOT NULL)`,
    );
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await pool.query(
      `DROP SCHEMA IF EXISTS "${schema}", "${schema}_projections" CASCADE`,
    );
  });

  afterAll(() => pool.end());

  it('pg_terminate_backend on the batch transaction: the process stays alive and the batch completes exactly once', async () => {
    const store = new PostgresEventStore(PgSqlClient.fromPool(pool), schema);
    for (let i = 0; i < 5; i++) {
      await store.append(`acct-${i}`, [deposited(`acct-${i}`, 1)]);
    }
    const app = spawn(process.execPath, [HELD_BATCH_PROCESS], {
      // Its own application name, to find (only) its connections below.
      env: {
        ...process.env,
        DATABASE_URL: `${DATABASE_URL}?application_name=${schema}`,
        SCHEMA: schema,
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child = app;
    let exited: number | null | undefined;
    app.on('exit', (code) => (exited = code));
    app.stdin!.on('error', () => undefined); // a dead child: the assertions say so
    const pid = await new Promise<number>((resolve) => {
      createInterface({ input: app.stdout! }).on('line', (line) => {
        const match = /^pid (\d+)$/.exec(line);
        if (match) resolve(Number(match[1]));
      });
    });

    const [{ terminated }] = (
      await pool.query<{ terminated: boolean }>(
        'SELECT pg_terminate_backend($1::int) AS terminated',
        [pid],
      )
    ).rows;
    expect(terminated).toBe(true);
    // The backend is gone before the handler touches its connection again.
    await waitFor(
      async () =>
        (
          await pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [
            pid,
          ])
        ).rowCount === 0,
      'the backend to end',
    );
    app.stdin!.write('go\n');

    const rows = async () =>
      (
        await pool.query<{ event_id: string }>(
          `SELECT event_id FROM "${schema}".ledger`,
        )
      ).rows;
    await waitFor(
      async () => exited !== undefined || (await rows()).length >= 5,
      'the batch to be handled again',
    );
    expect(exited).toBeUndefined();
    await waitFor(
      async () =>
        (
          await pool.query(
            `SELECT 1 FROM "${schema}".consumer_positions c
             WHERE c.position >= (SELECT max(position) FROM "${schema}".events)`,
          )
        ).rowCount === 1,
      'the consumer to reach the end of the log',
    );
    expect(app.exitCode).toBeNull();
    const handled = await rows();
    expect(handled).toHaveLength(5);
    expect(new Set(handled.map((r) => r.event_id)).size).toBe(5);

    // Then every connection of the app at once, idle pool clients included.
    const killed = await pool.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [schema],
    );
    expect(killed.rowCount).toBeGreaterThan(0);
    for (let i = 5; i < 10; i++) {
      await store.append(`acct-${i}`, [deposited(`acct-${i}`, 1)]);
    }
    await waitFor(
      async () => exited !== undefined || (await rows()).length >= 10,
      'the app to go on after losing all its connections',
    );
    expect(exited).toBeUndefined();
    expect(new Set((await rows()).map((r) => r.event_id)).size).toBe(10);
  });
});
