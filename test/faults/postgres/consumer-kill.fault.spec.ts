import pg from 'pg';
import {
  PgSqlClient,
  PostgresEventStore,
  newMessageId,
  type NewEvent,
} from '@chronicle/core';
import { AppProcess, fixture } from './support/app-process.js';
import { poll, report, sleep, tally } from './support/fault-report.js';
import { PostgresServer } from './support/postgres-server.js';

// Scenario c of the fault suite (docs/guides/faults-postgres.md): a consumer
// process killed with SIGKILL half-way through its catch-up, alone and next
// to a second process sharing its segments. The projection writes through
// context.sql(), so each row commits with the checkpoint: after the restart
// every event must be in the ledger exactly once.

const EVENTS = 600;
const LEDGER_APP = fixture('ledger-app');

function deposited(account: string): NewEvent {
  const id = newMessageId();
  return {
    id,
    type: 'faults.Deposited',
    revision: 1,
    payload: { account, ref: id },
    metadata: { correlationId: id },
    timestamp: new Date(),
  };
}

describe('fault suite: consumer processes killed mid-catch-up', () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  const apps: AppProcess[] = [];
  let schema: string;
  let schemas = 0;

  beforeAll(async () => {
    server = await PostgresServer.start();
    pool = server.pool();
  }, 60_000);

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.stop('SIGKILL')));
  });

  afterAll(async () => {
    await pool?.end();
    await server?.destroy();
  });

  /** A fresh schema with EVENTS events over 12 streams and an empty ledger; their ids. */
  async function seed(): Promise<string[]> {
    schema = `faults_c${++schemas}`;
    const store = new PostgresEventStore(PgSqlClient.fromPool(pool), schema);
    await store.migrate();
    await pool.query(
      `CREATE TABLE "${schema}".ledger (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, stream_id text NOT NULL, version int NOT NULL, instance text NOT NULL)`,
    );
    const ids: string[] = [];
    for (let n = 0; n < EVENTS; n += 10) {
      const streamId = `acct-${(n / 10) % 12}`;
      const events = Array.from({ length: 10 }, () => deposited(streamId));
      await store.append(streamId, events);
      ids.push(...events.map((e) => e.id));
    }
    return ids;
  }

  function start(instance: string): AppProcess {
    const app = AppProcess.start(instance, LEDGER_APP, {
      DATABASE_URL: server.url,
      SCHEMA: schema,
      INSTANCE: instance,
      LEASE_MS: '2000',
      DELAY_MS: '8',
    });
    apps.push(app);
    return app;
  }

  async function ledger(): Promise<
    { event_id: string; stream_id: string; version: number }[]
  > {
    const { rows } = await pool.query(
      `SELECT event_id, stream_id, version FROM "${schema}".ledger ORDER BY seq`,
    );
    return rows;
  }

  const projected = async () => (await ledger()).length;

  /** Every stream's rows in version order: a replayed batch would repeat versions. */
  function inStreamOrder(rows: Awaited<ReturnType<typeof ledger>>): boolean {
    const last = new Map<string, number>();
    return rows.every((row) => {
      const ok = row.version === (last.get(row.stream_id) ?? 0) + 1;
      last.set(row.stream_id, row.version);
      return ok;
    });
  }

  async function killWhenPast(app: AppProcess, rows: number): Promise<void> {
    await app.ready();
    await poll(async () => (await projected()) >= rows, `${rows} rows`);
    await app.stop('SIGKILL');
  }

  it('c. alone: killed twice mid-catch-up and restarted, every event is projected once', async () => {
    const ids = await seed();
    await killWhenPast(start('first'), 120);
    await killWhenPast(start('second'), 300);
    expect(await projected()).toBeLessThan(EVENTS);
    const last = start('third');
    await poll(async () => (await projected()) >= EVENTS, 'every event');
    await poll(
      async () =>
        (
          await pool.query(
            `SELECT count(*)::int AS n FROM "${schema}".consumer_positions WHERE consumer = 'faults-ledger' AND owner IS NOT NULL`,
          )
        ).rows[0].n === 4,
      'the last instance to hold every segment',
    );
    const rows = await ledger();
    report(
      'c. consumer killed mid-catch-up, alone',
      tally(
        EVENTS,
        ids,
        rows.map((r) => r.event_id),
      ),
    );
    expect(inStreamOrder(rows)).toBe(true);
    expect(last.running).toBe(true);
  });

  it('c. with a second process sharing the segments: one killed mid-catch-up and restarted, every event is projected once', async () => {
    const ids = await seed();
    const steady = start('steady');
    const doomed = start('doomed');
    await Promise.all([steady.ready(), doomed.ready()]);
    await poll(
      async () =>
        (
          await pool.query(
            `SELECT count(*)::int AS n FROM "${schema}".ledger WHERE instance = 'doomed'`,
          )
        ).rows[0].n >= 40,
      'the doomed process to be under way',
    );
    await doomed.stop('SIGKILL');
    expect(await projected()).toBeLessThan(EVENTS);
    start('restarted');
    await poll(async () => (await projected()) >= EVENTS, 'every event');
    await sleep(1_000); // a batch handled twice would land now
    const rows = await ledger();
    report(
      'c. consumer killed mid-catch-up, second process sharing segments',
      tally(
        EVENTS,
        ids,
        rows.map((r) => r.event_id),
      ),
    );
    expect(inStreamOrder(rows)).toBe(true);
    expect(steady.running).toBe(true);
  });
});
