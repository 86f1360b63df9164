import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import {
  Consumer,
  EventStore,
  HandleEvent,
  PgSqlClient,
  ProjectionTables,
  type ConsumerContext,
  type ConsumerOverview,
  type RebuildOverview,
  type StoredEvent,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import {
  Deposited,
  deposited,
  FAST_TRACKING,
  trackingApp,
  waitFor,
} from '../libs/core/test/tracking.fixture.js';

const CLI = fileURLToPath(
  new URL('../libs/core/dist/cli/main.js', import.meta.url),
);

/** Runs `chronicle consumers ...` to its end; stdout arrives as it is written. */
function chronicle(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'consumers', ...args], {
    env: { ...process.env, DATABASE_URL },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null }>((resolve) =>
    child.on('close', (code) => resolve({ code })),
  );
  return {
    done: async () => ({ ...(await done), stdout, stderr }),
    stdout: () => stdout,
  };
}

const EVENTS = 300;

/** Holds version 2's rebuild at its first event until the test lets it go. */
const gate: { opened: Promise<void>; open: () => void } = {
  opened: Promise.resolve(),
  open: () => undefined,
};

const TOTALS =
  'CREATE TABLE totals (account text PRIMARY KEY, total int NOT NULL)';

async function addUp(event: Deposited, context: ConsumerContext) {
  await (
    await context.sql()
  ).query(
    `INSERT INTO totals (account, total) VALUES ($1, $2)
     ON CONFLICT (account) DO UPDATE SET total = totals.total + EXCLUDED.total`,
    [event.account, event.amount],
  );
}

@Consumer('cli-stock', { tables: [TOTALS] })
class StockV1 {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited, _e: StoredEvent, context: ConsumerContext) {
    return addUp(event, context);
  }
}

@Consumer('cli-stock', { version: 2, tables: [TOTALS] })
class StockV2 {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _e: StoredEvent,
    context: ConsumerContext,
  ) {
    await gate.opened;
    await addUp(event, context);
  }
}

/** `npx chronicle consumers` while a consumer version is rebuilt beside the live one. */
describe('chronicle consumers during a blue-green rebuild, on built code', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const schema = freshSchema('cli_rebuild');
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    let open: () => void = () => undefined;
    gate.opened = new Promise<void>((resolve) => (open = resolve));
    gate.open = () => open();
    const client = PgSqlClient.fromPool(pool);
    const tracking = { ...FAST_TRACKING, retiredSchemaGraceMs: 0 };
    const v1 = await trackingApp(client, schema, [StockV1], tracking);
    apps.push(v1);
    const store = v1.get(EventStore);
    for (let i = 0; i < EVENTS; i += 100) {
      await store.append(
        `acct-${i}`,
        Array.from({ length: 100 }, () => deposited(`acct-${i}`, 1)),
      );
    }
    await waitFor(async () => {
      const rows = await v1
        .get(ProjectionTables)
        .query<{ n: number }>(
          'cli-stock',
          'SELECT coalesce(sum(total), 0)::int AS n FROM totals',
        );
      return rows[0].n === EVENTS;
    }, 'version 1 built');
    // Version 2 deployed beside it: its rebuild waits at the first event.
    apps.push(await trackingApp(client, schema, [StockV2], tracking));
  });

  afterAll(async () => {
    gate.open();
    await Promise.all(apps.map((app) => app.close()));
    const own = await pool.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1::text)',
      [schema],
    );
    for (const { name } of own.rows)
      await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await pool.end();
  });

  it('shows the version being built, its progress, and with --watch follows it until the switch', async () => {
    const json = await chronicle(['--schema', schema, '--json']).done();
    expect(json.code).toBe(0);
    const { consumers, rebuilds } = JSON.parse(json.stdout) as {
      consumers: ConsumerOverview[];
      rebuilds: RebuildOverview[];
    };
    expect(
      consumers.find((c) => c.consumer === 'cli-stock@v2')?.version,
    ).toEqual({ consumer: 'cli-stock', version: 2, status: 'building' });
    expect(consumers.find((c) => c.consumer === 'cli-stock')?.version).toEqual({
      consumer: 'cli-stock',
      version: 1,
      status: 'live',
    });
    // Held at its first event: none of the log read past yet.
    expect(rebuilds).toEqual([
      { consumer: 'cli-stock', version: 2, done: 0, total: EVENTS },
    ]);

    const table = await chronicle(['--schema', schema]).done();
    expect(table.stdout).toMatch(
      /^cli-stock@v2\s+0\s+\S+\s+\d+\s+300\s+\S+\s+building\s/m,
    );
    expect(table.stdout).toContain(
      `cli-stock v2 rebuilding beside the live version: [${'.'.repeat(30)}]   0% 0/${EVENTS} events`,
    );

    // --watch draws until no rebuild is left, then exits 0.
    const watch = chronicle([
      '--schema',
      schema,
      '--watch',
      '--interval',
      '100',
    ]);
    await waitFor(
      () => watch.stdout().includes('rebuilding beside the live version'),
      'the first drawing',
    );
    gate.open();
    const watched = await watch.done();
    expect(watched.code).toBe(0);
    expect(watched.stderr).toBe('');
    const drawings = watched.stdout.trimEnd().split('\n\n');
    expect(drawings[0]).toContain('  0% 0/300 events');
    // The last drawing: version 2 live, no rebuild line.
    const last = drawings[drawings.length - 1];
    expect(last).not.toContain('rebuilding');
    expect(last).toMatch(
      /^cli-stock@v2\s+0\s+\S+\s+\d+\s+0\s+\S+\s+running\s/m,
    );
  });

  it('refuses an --interval that is not a number of ms', async () => {
    const bad = await chronicle([
      '--schema',
      schema,
      '--watch',
      '--interval',
      'soon',
    ]).done();
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--interval must be a whole number of ms');
  });
});
