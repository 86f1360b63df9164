import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import { ChronicleModule, EventStore, PgSqlClient } from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import { freshNamespace, NATS_URL } from '../libs/core/test/nats.js';
import { deposited, waitFor } from '../libs/core/test/tracking.fixture.js';

const NOTIFIED_PROCESS = fileURLToPath(
  new URL('./fixtures/notified-process.mjs', import.meta.url),
);

const INSTANCES = ['a', 'b', 'c'];
const STREAMS = 10;
const ROUNDS = 10; // of 5 events per stream: 500 events

/**
 * Three processes of one app on PostgreSQL and NATS, each with a notification
 * handler and a share of a durable consumer's segments; a fourth app (this
 * test) appends, and its wake-ups reach the others over NATS.
 */
describe('notifications across three processes of one app', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const children: ChildProcess[] = [];
  let schema: string;
  let writer: INestApplicationContext | undefined;

  function startInstance(
    name: string,
    namespace: string,
    stuck = false,
  ): Promise<void> {
    const child = spawn(process.execPath, [NOTIFIED_PROCESS], {
      env: {
        ...process.env,
        DATABASE_URL,
        NATS_URL,
        SCHEMA: schema,
        INSTANCE: name,
        NAMESPACE: namespace,
        STUCK: stuck ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
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

  beforeEach(async () => {
    schema = freshSchema('e2e_ntf');
    const namespace = freshNamespace();
    writer = await (
      await Test.createTestingModule({
        imports: [
          ChronicleModule.forRoot({
            app: 'writer',
            database: { client: PgSqlClient.fromPool(pool), schema },
            transport: { nats: { servers: NATS_URL }, namespace },
            tracking: { enabled: false },
          }),
        ],
      }).compile()
    ).init();
    await pool.query(
      `CREATE TABLE "${schema}".notified (seq bigserial PRIMARY KEY, instance text NOT NULL, event_id uuid NOT NULL)`,
    );
    await pool.query(
      `CREATE TABLE "${schema}".ledger (event_id uuid NOT NULL, instance text NOT NULL)`,
    );
    // Instance c's notifications hang on the first event they get.
    await Promise.all(
      INSTANCES.map((name) => startInstance(name, namespace, name === 'c')),
    );
    await waitFor(async () => {
      const owners = await pool.query<{ owner: string | null }>(
        `SELECT owner FROM "${schema}".consumer_positions WHERE consumer = 'ledger'`,
      );
      return new Set(owners.rows.map((r) => r.owner)).size === 3;
    }, 'each instance to hold one of the three ledger segments');
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    }
    await writer?.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  afterAll(() => pool.end());

  it('every instance is notified of every event exactly once, in log order, while the consumer shares the work; a hung notification handler holds back only the notifications of its own instance', async () => {
    const store = (writer as INestApplicationContext).get(EventStore);
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        Array.from({ length: STREAMS }, (_, s) =>
          store.append(
            `acct-${s}`,
            Array.from({ length: 5 }, () => deposited(`acct-${s}`, 1)),
          ),
        ),
      );
    }
    const total = STREAMS * ROUNDS * 5;
    const count = async (table: string, instance?: string) =>
      Number(
        (
          await pool.query(
            `SELECT count(*) AS n FROM "${schema}".${table}` +
              (instance ? ' WHERE instance = $1' : ''),
            instance ? [instance] : [],
          )
        ).rows[0].n,
      );
    await waitFor(async () => {
      for (const name of ['a', 'b'])
        if ((await count('notified', name)) < total) return false;
      return (await count('ledger')) >= total;
    }, 'a and b notified of every event, and the consumer done');

    const logOrder = (
      await pool.query<{ id: string }>(
        `SELECT id FROM "${schema}".events ORDER BY transaction_id, position`,
      )
    ).rows.map((r) => r.id);
    expect(logOrder).toHaveLength(total);
    for (const name of ['a', 'b']) {
      const seen = (
        await pool.query<{ event_id: string }>(
          `SELECT event_id FROM "${schema}".notified WHERE instance = $1 ORDER BY seq`,
          [name],
        )
      ).rows.map((r) => r.event_id);
      // Exactly once each, in the order of the log.
      expect(seen).toEqual(logOrder);
    }
    const ledger = (
      await pool.query<{ event_id: string; instance: string }>(
        `SELECT event_id, instance FROM "${schema}".ledger`,
      )
    ).rows;
    expect(ledger).toHaveLength(total);
    expect(new Set(ledger.map((r) => r.event_id)).size).toBe(total);
    // c's segment went on while its notifications were stuck on the first event.
    expect(ledger.filter((r) => r.instance === 'c').length).toBeGreaterThan(0);
    const stuck = await pool.query<{ event_id: string }>(
      `SELECT event_id FROM "${schema}".notified WHERE instance = 'c'`,
    );
    expect(stuck.rows.map((r) => r.event_id)).toEqual([logOrder[0]]);
  }, 120_000);
});
