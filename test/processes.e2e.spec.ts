import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  newMessageId,
  PgSqlClient,
  PostgresEventStore,
  type NewEvent,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import { freshNamespace, NATS_URL } from '../libs/core/test/nats.js';
import { waitFor } from '../libs/core/test/tracking.fixture.js';

const FULFILMENT_PROCESS = fileURLToPath(
  new URL('./fixtures/fulfilment-process.mjs', import.meta.url),
);

const ORDERS = 1_000;

function placed(orderId: string): NewEvent {
  const id = newMessageId();
  return {
    id,
    type: 'e2e.OrderPlaced',
    revision: 1,
    payload: { orderId },
    metadata: { correlationId: id },
    timestamp: new Date(),
  };
}

/**
 * Two processes of one app run the "fulfilment" process manager (four
 * segments by order id, shared between them) and the command handlers it
 * talks to (test/fixtures/fulfilment-process.mjs); one is killed (SIGKILL:
 * no shutdown, leases and claims left behind) while 1,000 instances are
 * under way. The survivor takes over its segments and outbox rows.
 */
describe('process managers across two processes, one killed mid-way', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const children = new Map<string, ChildProcess>();
  let schema: string;

  function start(name: string, namespace: string): Promise<void> {
    const child = spawn(process.execPath, [FULFILMENT_PROCESS], {
      env: {
        ...process.env,
        DATABASE_URL,
        NATS_URL,
        SCHEMA: schema,
        INSTANCE: name,
        NAMESPACE: namespace,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.set(name, child);
    const lines = createInterface({ input: child.stdout! });
    return new Promise((resolve, reject) => {
      lines.once('line', (line) =>
        line === 'ready'
          ? resolve()
          : reject(new Error(`${name} said: ${line}`)),
      );
      child.once('exit', (code) =>
        reject(new Error(`${name} exited with ${code}`)),
      );
    });
  }

  const scalar = async (sql: string): Promise<number> =>
    Number((await pool.query<{ n: string }>(sql)).rows[0].n);

  beforeEach(async () => {
    schema = freshSchema('e2e_pm');
    // Migrated before the apps start, so the test's own table can be made first.
    const client = PgSqlClient.fromPool(pool);
    await new PostgresEventStore(client, schema).migrate();
    await pool.query(
      `CREATE TABLE "${schema}".received (command_id text NOT NULL, type text NOT NULL, order_id text NOT NULL, instance text NOT NULL)`,
    );
  });

  afterEach(async () => {
    for (const child of children.values()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    }
    children.clear();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  afterAll(() => pool.end());

  it('ends each of 1,000 concurrent instances exactly once with the right outcome, each command run once', async () => {
    const namespace = freshNamespace();
    await Promise.all([start('a', namespace), start('b', namespace)]);
    const store = new PostgresEventStore(PgSqlClient.fromPool(pool), schema);
    const keys = Array.from({ length: ORDERS }, (_, i) => `order-${i}`);
    for (let i = 0; i < ORDERS; i += 100) {
      await Promise.all(
        keys
          .slice(i, i + 100)
          .map((key) => store.append(`order-${key}`, [placed(key)])),
      );
    }

    // Both processes hold segments of the process manager: its instances
    // are split by key between them (each order's events come from three
    // streams). Kill one once a tenth of the instances have ended and most
    // are still under way.
    const owners = async () =>
      (
        await pool.query<{ owner: string | null }>(
          `SELECT owner FROM "${schema}".consumer_positions WHERE consumer = 'process:fulfilment'`,
        )
      ).rows.map((r) => r.owner);
    await waitFor(async () => {
      const held = await owners();
      return held.length === 4 && held.includes('a') && held.includes('b');
    }, 'both processes holding segments');
    await waitFor(
      async () =>
        (await scalar(
          `SELECT count(*) AS n FROM "${schema}".process_instances WHERE status = 'ended'`,
        )) >=
        ORDERS / 10,
      'a tenth of the instances ended',
    );
    const victim = children.get('a')!;
    const killed = once(victim, 'exit');
    victim.kill('SIGKILL');
    await killed;
    const ended = await scalar(
      `SELECT count(*) AS n FROM "${schema}".process_instances WHERE status = 'ended'`,
    );
    expect(ended).toBeLessThan(ORDERS);

    await waitFor(
      async () =>
        (await scalar(
          `SELECT count(*) AS n FROM "${schema}".process_instances WHERE status = 'ended'`,
        )) === ORDERS,
      'every instance ended on the survivor',
      120_000,
    );

    const instances = await pool.query<{
      key: string;
      state: { steps: string[]; outcome: string };
      version: number;
    }>(
      `SELECT key, state, version FROM "${schema}".process_instances WHERE name = 'fulfilment'`,
    );
    expect(instances.rows).toHaveLength(ORDERS);
    for (const { key, state, version } of instances.rows) {
      const even = Number(key.split('-')[1]) % 2 === 0;
      // Each step once, in order: no step ran twice on the stored state.
      expect(state).toEqual(
        even
          ? { steps: ['placed', 'charged', 'shipped'], outcome: 'shipped' }
          : { steps: ['placed', 'declined'], outcome: 'cancelled' },
      );
      expect(version).toBe(even ? 3 : 2);
    }
    // Every command ran once: one Charge per order, one Ship per even order,
    // each under one id (a second run under another id would be a second row).
    const received = await pool.query<{
      type: string;
      order_id: string;
      command_id: string;
    }>(`SELECT type, order_id, command_id FROM "${schema}".received`);
    const charges = received.rows.filter((r) => r.type === 'Charge');
    const ships = received.rows.filter((r) => r.type === 'Ship');
    expect(charges).toHaveLength(ORDERS);
    expect(new Set(charges.map((r) => r.order_id)).size).toBe(ORDERS);
    expect(ships).toHaveLength(ORDERS / 2);
    expect(new Set(ships.map((r) => r.order_id)).size).toBe(ORDERS / 2);
    // And each is the id the instance's step recorded for it.
    const sent = await pool.query<{ id: string }>(
      `SELECT jsonb_array_elements_text(commands) AS id FROM "${schema}".process_steps WHERE name = 'fulfilment'`,
    );
    expect(new Set(sent.rows.map((r) => r.id))).toEqual(
      new Set(received.rows.map((r) => r.command_id)),
    );
  }, 240_000);
});
