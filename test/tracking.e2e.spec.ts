import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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

interface Instance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<unknown[]>;
}

/** Two (or more) processes of one app sharing the `ledger` consumer's 4 segments. */
describe('a consumer shared by tracker processes', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const client = PgSqlClient.fromPool(pool);
  let schema: string;
  let store: PostgresEventStore;
  const instances: Instance[] = [];

  function startInstance(name: string, leaseMs: number): Instance {
    const child = spawn(process.execPath, [LEDGER_PROCESS], {
      env: {
        ...process.env,
        DATABASE_URL,
        SCHEMA: schema,
        INSTANCE: name,
        LEASE_MS: String(leaseMs),
        DELAY_MS: '4',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const instance = { name, child, exited: once(child, 'exit') };
    instances.push(instance);
    return instance;
  }

  const ledger = async () =>
    (
      await pool.query<{
        event_id: string;
        stream_id: string;
        version: number;
        instance: string;
      }>(
        `SELECT event_id, stream_id, version, instance FROM "${schema}".ledger ORDER BY seq`,
      )
    ).rows;
  const count = async () =>
    Number(
      (await pool.query(`SELECT count(*) AS n FROM "${schema}".ledger`)).rows[0]
        .n,
    );
  const owners = async () =>
    (
      await pool.query<{ owner: string | null }>(
        `SELECT owner FROM "${schema}".consumer_positions WHERE consumer = 'ledger' ORDER BY segment`,
      )
    ).rows.map((r) => r.owner);

  async function seed(streams: number, perStream: number): Promise<void> {
    for (let round = 0; round < perStream; round += 5) {
      for (let s = 0; s < streams; s++) {
        const id = `acct-${s}`;
        await store.append(
          id,
          Array.from({ length: 5 }, () => deposited(id, 1)),
        );
      }
    }
  }

  /** Every event exactly once, and each stream's versions in order. */
  function expectExactlyOnceInOrder(
    rows: Awaited<ReturnType<typeof ledger>>,
    total: number,
  ): void {
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(total);
    const byStream = new Map<string, number[]>();
    for (const row of rows) {
      byStream.set(row.stream_id, [
        ...(byStream.get(row.stream_id) ?? []),
        row.version,
      ]);
    }
    for (const versions of byStream.values()) {
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
  }

  beforeEach(async () => {
    schema = freshSchema('e2e_trk');
    store = new PostgresEventStore(client, schema);
    await store.migrate();
    await pool.query(
      `CREATE TABLE "${schema}".ledger (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, stream_id text NOT NULL, version int NOT NULL, instance text NOT NULL)`,
    );
  });

  afterEach(async () => {
    for (const instance of instances.splice(0)) {
      if (
        instance.child.exitCode === null &&
        instance.child.signalCode === null
      ) {
        instance.child.kill('SIGKILL');
        await instance.exited;
      }
    }
    await pool.query(
      `DROP SCHEMA IF EXISTS "${schema}", "${schema}_projections" CASCADE`,
    );
  });

  afterAll(() => pool.end());

  it('one instance is killed with SIGKILL mid-run: the other takes its segments after the lease, nothing lost, nothing handled twice', async () => {
    await seed(20, 50); // 1,000 events
    const a = startInstance('a', 2_000);
    const b = startInstance('b', 2_000);
    await waitFor(async () => {
      const held = await owners();
      return held.includes('a') && held.includes('b');
    }, 'both instances to hold segments');
    await waitFor(
      async () =>
        (await ledger()).filter((r) => r.instance === 'a').length >= 50,
      'instance a to be under way',
    );
    a.child.kill('SIGKILL');
    await a.exited;
    expect(await count()).toBeLessThan(1_000);

    await waitFor(async () => (await count()) >= 1_000, 'every event', 60_000);
    await waitFor(
      async () => (await owners()).every((o) => o === 'b'),
      'b to hold all four segments',
    );
    const rows = await ledger();
    expectExactlyOnceInOrder(rows, 1_000);
    expect(rows.some((r) => r.instance === 'a')).toBe(true);
    expect(rows.some((r) => r.instance === 'b')).toBe(true);

    b.child.kill('SIGTERM');
    await b.exited;
  }, 120_000);

  it('a graceful stop hands the segments over at once; the CLI replays the consumer through a running instance', async () => {
    await seed(10, 20); // 200 events
    // A lease far longer than the test waits: only a hand-back can move the segments.
    const a = startInstance('a', 60_000);
    const b = startInstance('b', 60_000);
    await waitFor(async () => {
      const held = await owners();
      return (
        held.filter((o) => o === 'a').length === 2 &&
        held.filter((o) => o === 'b').length === 2
      );
    }, 'two segments each');
    // Nest's shutdown hooks close the app, then re-raise the signal.
    a.child.kill('SIGTERM');
    await a.exited;
    expect(await owners()).not.toContain('a');
    await waitFor(
      async () => (await owners()).every((o) => o === 'b'),
      'b to take all four',
      20_000,
    );
    await waitFor(async () => (await count()) >= 200, 'every event');
    expectExactlyOnceInOrder(await ledger(), 200);

    // `npx chronicle replay ledger --from beginning`: b clears the ledger and handles everything again.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI, 'replay', 'ledger', '--from', 'beginning', '--schema', schema],
      { env: { ...process.env, DATABASE_URL } },
    );
    expect(stdout).toContain('Replay of "ledger" requested');
    await waitFor(
      async () =>
        (
          await pool.query(
            `SELECT count(*) AS n FROM "${schema}".consumer_resets`,
          )
        ).rows[0].n === '0',
      'the replay to be applied',
    );
    await waitFor(async () => (await count()) >= 200, 'the replayed events');
    await waitFor(
      async () => (await ledger()).every((r) => r.instance === 'b'),
      'only b to have handled the replay',
    );
    const replayed = await ledger();
    expectExactlyOnceInOrder(replayed, 200);
    b.child.kill('SIGTERM');
    await b.exited;
  }, 120_000);
});
