import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import {
  ChronicleModule,
  PgSqlClient,
  ScheduleType,
  Scheduler,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import { waitUntil } from '../libs/core/test/wait-until.js';

const INSTANCE_SCRIPT = fileURLToPath(
  new URL('./scheduling-instance.mjs', import.meta.url),
);

/** The job the instance processes handle (the same stable name as theirs). */
@ScheduleType('e2e.Job')
class Job {
  constructor(readonly n: number) {}
}

interface Instance {
  readonly child: ChildProcess;
  readonly lines: string[];
}

/** Starts an app instance as a process; resolves once it has started its scheduler. */
async function startInstance(
  schema: string,
  env: Record<string, string> = {},
): Promise<Instance> {
  const child = spawn(process.execPath, [INSTANCE_SCRIPT], {
    env: { ...process.env, DATABASE_URL, SCHEMA: schema, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    lines.push(...chunk.split('\n').filter(Boolean));
  });
  await waitUntil(() => lines.includes('ready'), 'instance started', 30_000);
  return { child, lines };
}

async function stop(instance: Instance): Promise<void> {
  if (instance.child.exitCode !== null || instance.child.signalCode) return;
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.kill('SIGTERM');
  await exited;
}

describe('the scheduler across processes on PostgreSQL', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const schemas: string[] = [];
  const instances: Instance[] = [];
  let writer: INestApplicationContext | undefined;

  /** A schema with the recording table, and an app in this process that only schedules. */
  async function setUp(): Promise<{ schema: string; scheduler: Scheduler }> {
    const schema = freshSchema('e2esched');
    schemas.push(schema);
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(
      `CREATE TABLE "${schema}".e2e_deliveries (schedule_id text NOT NULL, instance text NOT NULL, n int NOT NULL)`,
    );
    await pool.query(
      `CREATE TABLE "${schema}".e2e_starts (schedule_id text NOT NULL, instance text NOT NULL)`,
    );
    @Module({})
    class WriterModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: { client: PgSqlClient.fromPool(pool), schema },
          scheduling: { enabled: false },
        }),
        WriterModule,
      ],
    }).compile();
    writer = await moduleRef.init();
    return { schema, scheduler: writer.get(Scheduler) };
  }

  afterEach(async () => {
    await Promise.all(instances.splice(0).map(stop));
    await writer?.close();
    writer = undefined;
  });

  afterAll(async () => {
    for (const schema of schemas) {
      await pool.query(
        `DROP SCHEMA IF EXISTS "${schema}", "${schema}_projections" CASCADE`,
      );
    }
    await pool.end();
  });

  const deliveries = async (schema: string) =>
    (
      await pool.query<{ schedule_id: string; count: number }>(
        `SELECT schedule_id, count(*)::int AS count FROM "${schema}".e2e_deliveries GROUP BY schedule_id`,
      )
    ).rows;

  const remaining = async (schema: string) =>
    (
      await pool.query<{ count: number }>(
        // Periodic rows (each app's command-records cleanup) stay.
        `SELECT count(*)::int AS count FROM "${schema}".schedules WHERE periodic IS NULL`,
      )
    ).rows[0].count;

  it('1,000 schedules across 3 instance processes fire exactly once each', async () => {
    const { schema, scheduler } = await setUp();
    for (let i = 0; i < 3; i++) {
      instances.push(await startInstance(schema, { INSTANCE: String(i) }));
    }
    // All due at the same moment, a little ahead, so the three compete for them.
    const at = new Date(Date.now() + 1_000);
    const ids: string[] = [];
    for (let start = 0; start < 1_000; start += 50) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, (_, k) =>
            scheduler.schedule(new Job(start + k), { at }),
          ),
        )),
      );
    }

    await waitUntil(
      async () => (await deliveries(schema)).length === 1_000,
      'every schedule delivered',
      60_000,
    );
    await waitUntil(
      async () => (await remaining(schema)) === 0,
      'every schedule removed',
    );
    const rows = await deliveries(schema);
    expect(rows.map((r) => r.schedule_id).sort()).toEqual([...ids].sort());
    expect(rows.filter((r) => r.count !== 1)).toEqual([]);
  });

  it('recovers a schedule whose process was killed after claiming it, before committing', async () => {
    const { schema, scheduler } = await setUp();
    const doomed = await startInstance(schema, {
      MODE: 'hang',
      CLAIM_TIMEOUT: '2s',
    });
    instances.push(doomed);
    const id = await scheduler.schedule(new Job(7), { at: new Date() });
    await waitUntil(
      () => doomed.lines.includes(`claimed ${id}`),
      'claimed by the doomed instance',
    );
    const [claimed] = (
      await pool.query<{ attempts: number; claimed: boolean }>(
        `SELECT attempts, claimed_until IS NOT NULL AS claimed FROM "${schema}".schedules WHERE id = $1`,
        [id],
      )
    ).rows;
    expect(claimed).toEqual({ attempts: 1, claimed: true });

    const exited = new Promise((resolve) => doomed.child.once('exit', resolve));
    doomed.child.kill('SIGKILL');
    await exited;

    instances.push(await startInstance(schema, { INSTANCE: 'survivor' }));
    await waitUntil(
      async () => (await deliveries(schema)).length === 1,
      'delivered by the surviving instance once the claim ran out',
    );
    await waitUntil(
      async () => (await remaining(schema)) === 0,
      'schedule removed',
    );
    expect(await deliveries(schema)).toEqual([{ schedule_id: id, count: 1 }]);
  });

  it('an instance killed again and again right after claiming never kills a schedule it did not start', async () => {
    const { schema, scheduler } = await setUp();
    const ids: string[] = [];
    for (let start = 0; start < 200; start += 50) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, (_, k) =>
            scheduler.schedule(new Job(start + k), { at: new Date(0) }),
          ),
        )),
      );
    }
    // Each instance runs 2 deliveries at a time and is killed once it has
    // started 6: whatever it claimed beyond what it started must stay
    // untouched, so that crash-looping never uses up a schedule's attempts.
    const crashing = {
      MODE: 'work',
      WORK_MS: '30',
      CONCURRENCY: '2',
      CLAIM_TIMEOUT: '1s',
    };
    for (let kill = 0; kill < 12; kill++) {
      const doomed = await startInstance(schema, {
        ...crashing,
        INSTANCE: `doomed-${kill}`,
      });
      instances.push(doomed); // stopped after the test, should it fail here
      await waitUntil(
        () => doomed.lines.filter((l) => l.startsWith('started')).length >= 6,
        `instance ${kill} started deliveries`,
      );
      const exited = new Promise((r) => doomed.child.once('exit', r));
      doomed.child.kill('SIGKILL');
      await exited;
    }
    instances.push(
      await startInstance(schema, { ...crashing, CONCURRENCY: '8' }),
    );
    await waitUntil(
      async () =>
        (
          await pool.query(
            `SELECT 1 FROM "${schema}".schedules WHERE status = 'scheduled' AND periodic IS NULL`,
          )
        ).rowCount === 0,
      'every schedule settled',
      60_000,
    );
    const deadUnstarted = await pool.query<{ id: string; last_error: string }>(
      `SELECT id, last_error FROM "${schema}".schedules s WHERE status = 'dead'
         AND NOT EXISTS (SELECT 1 FROM "${schema}".e2e_starts x WHERE x.schedule_id = s.id)`,
    );
    expect(deadUnstarted.rows).toEqual([]);
    expect(await remaining(schema)).toBe(0);
    const rows = await deliveries(schema);
    expect(rows.map((r) => r.schedule_id).sort()).toEqual([...ids].sort());
    expect(rows.filter((r) => r.count !== 1)).toEqual([]);
  }, 180_000);
});
