import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import {
  EventStore,
  ManualClock,
  PgSqlClient,
  TrackingService,
  type ProcessInstanceOverview,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import {
  paid,
  placed,
  processApp,
} from '../libs/core/test/processes.fixture.js';
import { waitUntil } from '../libs/core/test/wait-until.js';

const CLI = fileURLToPath(
  new URL('../libs/core/dist/cli/main.js', import.meta.url),
);

async function chronicle(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [CLI, 'processes', ...args],
      { env: { ...process.env, DATABASE_URL }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** `npx chronicle processes` against a store an app has been running a process manager on. */
describe('chronicle processes, on built code', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const schema = freshSchema('cli_pm');
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    app = await processApp(
      PgSqlClient.fromPool(pool),
      schema,
      new ManualClock(new Date('2026-12-04T12:00:00Z')),
    );
    const store = app.get(EventStore);
    await store.append('order-1', [placed('o-1', 10)]);
    await store.append('order-2', [placed('o-2', 20)]);
    await store.append('payment-2', [paid('o-2')]);
    const tracking = app.get(TrackingService);
    await waitUntil(async () => {
      const [health] = await tracking.health('process:order-fulfilment');
      return health.segments.every((s) => s.behind === 0);
    }, 'the process manager caught up');
  });

  afterAll(async () => {
    await app?.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('prints the instances, their state and open deadlines', async () => {
    const { code, stdout } = await chronicle([
      'order-fulfilment',
      '--schema',
      schema,
    ]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^key\s+status\s+version\s+deadlines\s+state$/);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^o-1\s+live\s+1\s+payment at 2026-12-04T12:15:00.000Z\s+\{.*"orderId":"o-1"/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^o-2\s+live\s+2\s+-\s+\{.*"paid":true/),
    );
  });

  it('prints one instance with its history, and JSON', async () => {
    const table = await chronicle([
      'order-fulfilment',
      '--key',
      'o-2',
      '--schema',
      schema,
    ]);
    expect(table.stdout).toContain('history of o-2:');
    expect(table.stdout).toMatch(/pm\.OrderPlaced \S+ at \d+ sent \S+/);
    expect(table.stdout).toMatch(/pm\.PaymentAuthorized \S+ at \d+\n/);

    const json = await chronicle([
      'order-fulfilment',
      '--key',
      'o-2',
      '--json',
      '--schema',
      schema,
    ]);
    const [instance] = JSON.parse(json.stdout) as ProcessInstanceOverview[];
    expect(instance).toMatchObject({
      key: 'o-2',
      status: 'live',
      deadlines: [],
      history: [
        { messageType: 'pm.OrderPlaced' },
        { messageType: 'pm.PaymentAuthorized' },
      ],
    });
  });

  it('says what is missing on a usage mistake', async () => {
    const { code, stderr } = await chronicle(['--schema', schema]);
    expect(code).toBe(2);
    expect(stderr).toContain('Which process manager?');
  });
});
