import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  newMessageId,
  PgSqlClient,
  PostgresEventStore,
  type NewEvent,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';

const execute = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const ordersModule = `${root}apps/orders/dist/app.module.js`;

/** Runs a built command module as the `chronicle` dispatcher would: `run(argv)` sets the exit code. */
async function chronicle(command: 'show' | 'streams', args: string[]) {
  const script = `
    const { run } = await import(${JSON.stringify(`${root}libs/core/dist/cli/${command}.command.js`)});
    process.exitCode = await run(process.argv.slice(1));
  `;
  try {
    const { stdout, stderr } = await execute(
      process.execPath,
      ['--input-type=module', '-e', script, '--', ...args],
      { env: { ...process.env, DATABASE_URL }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function event(type: string, payload: Record<string, unknown>): NewEvent {
  return {
    id: newMessageId(),
    type,
    revision: 1,
    payload,
    metadata: { correlationId: newMessageId() },
    timestamp: new Date('2026-01-02T03:04:05Z'),
  };
}

describe('chronicle show and chronicle streams, on built code', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const schema = freshSchema('cli');

  beforeAll(async () => {
    const store = new PostgresEventStore(PgSqlClient.fromPool(pool), schema);
    await store.migrate();
    await store.append('orders.Order-o-42', [
      event('orders.OrderPlaced', {
        orderId: 'o-42',
        customerId: 'ada',
        lines: [{ sku: 'jam', quantity: 2, unitPrice: 3 }],
        total: 6,
      }),
      event('orders.OrderConfirmed', { orderId: 'o-42' }),
      event('orders.OrderCancelled', { orderId: 'o-42', reason: 'late' }),
    ]);
    await store.append('orders.Order-o-7', [
      event('orders.OrderPlaced', {
        orderId: 'o-7',
        customerId: 'bob',
        lines: [],
        total: 0,
      }),
    ]);
    await store.append('billing.Invoice-i-1', [event('billing.Drafted', {})]);
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('shows the history and the state at a version, finding the aggregate in the app module', async () => {
    const at2 = await chronicle('show', [
      'orders.Order',
      'o-42',
      '--at',
      '2',
      '--module',
      ordersModule,
      '--schema',
      schema,
      '--json',
    ]);
    expect(at2.stderr).toBe('');
    expect(at2.code).toBe(0);
    const shown = JSON.parse(at2.stdout) as {
      version: number;
      head: number;
      events: { version: number; type: string }[];
      state: Record<string, unknown>;
    };
    expect(shown.version).toBe(2);
    expect(shown.head).toBe(3);
    expect(shown.events.map((e) => e.type)).toEqual([
      'orders.OrderPlaced',
      'orders.OrderConfirmed',
    ]);
    expect(shown.state).toEqual({
      status: 'confirmed',
      total: 6,
      lines: [{ sku: 'jam', quantity: 2, unitPrice: 3 }],
    });

    const now = await chronicle('show', [
      'orders.Order',
      'o-42',
      '--module',
      ordersModule,
      '--schema',
      schema,
    ]);
    expect(now.code).toBe(0);
    expect(now.stdout).toContain('orders.Order o-42: version 3 of 3');
    expect(now.stdout).toContain(
      'v3  2026-01-02T03:04:05.000Z  orders.OrderCancelled r1',
    );
    expect(now.stdout).toContain('"status": "cancelled"');
  });

  it('says what is wrong: a missing stream, an unknown aggregate, a bad option', async () => {
    const missing = await chronicle('show', [
      'orders.Order',
      'nope',
      '--schema',
      schema,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'stream "orders.Order-nope" has no events',
    );

    const unknown = await chronicle('show', [
      'orders.Parcel',
      'o-42',
      '--module',
      ordersModule,
      '--schema',
      schema,
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'declares no aggregate "orders.Parcel" (found: orders.Order)',
    );

    const bad = await chronicle('show', ['orders.Order', 'o-42', '--at', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Usage: chronicle show');
  });

  it('lists streams, by type and page by page', async () => {
    const all = await chronicle('streams', ['--schema', schema, '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual([
      {
        streamId: 'billing.Invoice-i-1',
        version: 1,
        lastWrite: '2026-01-02T03:04:05.000Z',
      },
      {
        streamId: 'orders.Order-o-42',
        version: 3,
        lastWrite: '2026-01-02T03:04:05.000Z',
      },
      {
        streamId: 'orders.Order-o-7',
        version: 1,
        lastWrite: '2026-01-02T03:04:05.000Z',
      },
    ]);
    const orders = await chronicle('streams', [
      '--schema',
      schema,
      '--type',
      'orders.Order',
      '--limit',
      '1',
    ]);
    expect(orders.stdout).toContain('orders.Order-o-42');
    expect(orders.stdout).not.toContain('orders.Order-o-7');
    expect(orders.stdout).toContain(
      '(more after "orders.Order-o-42": --after)',
    );
  });
});
