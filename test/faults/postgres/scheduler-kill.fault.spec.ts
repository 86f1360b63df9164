import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import {
  ChronicleModule,
  PgSqlClient,
  ScheduleType,
  Scheduler,
} from '@chronicle/core';
import { AppProcess, fixture } from './support/app-process.js';
import { poll, report, sleep, tally } from './support/fault-report.js';
import { PostgresServer } from './support/postgres-server.js';

// Scenarios d and e of the fault suite (docs/guides/faults-postgres.md):
// scheduler instances killed with SIGKILL while schedules fire. The fixture
// records a `starts` row when a delivery begins and a `fires` row in the
// delivery's own transaction, so `fires` holds each schedule once if and only
// if it was delivered exactly once.

/** The job the scheduler-app processes handle (the same stable name). */
@ScheduleType('faults.Job')
class Job {
  constructor(readonly n: number) {}
}

const SCHEDULER_APP = fixture('scheduler-app');

describe('fault suite: scheduler instances killed while schedules fire', () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let writer: INestApplicationContext | undefined;
  const apps: AppProcess[] = [];
  let schema: string;
  let schemas = 0;

  beforeAll(async () => {
    server = await PostgresServer.start();
    pool = server.pool();
  }, 60_000);

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.stop('SIGKILL')));
    await writer?.close();
    writer = undefined;
  });

  afterAll(async () => {
    await pool?.end();
    await server?.destroy();
  });

  /** A fresh schema with the recording tables, and `count` jobs due now; their ids. */
  async function scheduleJobs(count: number): Promise<string[]> {
    schema = `faults_sched${++schemas}`;
    @Module({})
    class WriterModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app: 'faults-scheduling',
          database: { client: PgSqlClient.fromPool(pool), schema },
          transport: { local: true },
          scheduling: { enabled: false },
        }),
        WriterModule,
      ],
    }).compile();
    writer = await moduleRef.init();
    for (const table of ['starts', 'fires']) {
      await pool.query(
        `CREATE TABLE "${schema}".${table} (schedule_id text NOT NULL, instance text NOT NULL)`,
      );
    }
    const scheduler = writer.get(Scheduler);
    const at = new Date();
    const ids: string[] = [];
    for (let n = 0; n < count; n += 50) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, (_, k) =>
            scheduler.schedule(new Job(n + k), { at }),
          ),
        )),
      );
    }
    return ids;
  }

  function start(
    instance: string,
    env: { CLAIM_TIMEOUT: string; DELAY_MS: string; GATED?: string },
  ): AppProcess {
    const app = AppProcess.start(instance, SCHEDULER_APP, {
      DATABASE_URL: server.url,
      SCHEMA: schema,
      INSTANCE: instance,
      ...env,
    });
    apps.push(app);
    return app;
  }

  const column = async (sql: string): Promise<string[]> =>
    (await pool.query<{ v: string }>(sql)).rows.map((r) => r.v);
  const fires = () => column(`SELECT schedule_id AS v FROM "${schema}".fires`);
  const pending = async () =>
    (
      await column(
        `SELECT id AS v FROM "${schema}".schedules WHERE status = 'scheduled'`,
      )
    ).length;
  /** Schedules recorded dead whose delivery never even began. */
  const deadNeverStarted = () =>
    column(
      `SELECT s.id || ': ' || coalesce(s.last_error, '') AS v FROM "${schema}".schedules s
       WHERE s.status = 'dead' AND NOT EXISTS (SELECT 1 FROM "${schema}".starts r WHERE r.schedule_id = s.id)`,
    );
  const dead = () =>
    column(`SELECT id AS v FROM "${schema}".schedules WHERE status = 'dead'`);

  it('d. one of two instances killed while 1,000 schedules fire: each fires once, none lost', async () => {
    const ids = await scheduleJobs(1_000);
    const options = { CLAIM_TIMEOUT: '2s', DELAY_MS: '5' };
    const doomed = start('doomed', options);
    start('steady', options);
    await poll(
      async () =>
        (
          await column(
            `SELECT schedule_id AS v FROM "${schema}".fires WHERE instance = 'doomed'`,
          )
        ).length >= 100,
      'the doomed instance to be under way',
    );
    await doomed.stop('SIGKILL');
    expect((await fires()).length).toBeLessThan(1_000);
    start('restarted', options);

    await poll(
      async () => (await pending()) === 0,
      'every schedule done',
      90_000,
    );
    const buried = await dead();
    report(
      'd. scheduler killed while 1,000 fire',
      tally(1_000, ids, await fires()),
      { dead: buried.length },
      buried[0],
    );
  }, 120_000);

  it('e. an instance killed 16 times in quick succession with a short claim: every schedule fires once, none ends dead without having run (point 17)', async () => {
    const ids = await scheduleJobs(500);
    // Deliveries slow enough that each life dies with work claimed and unfinished.
    const options = { CLAIM_TIMEOUT: '1s', DELAY_MS: '50', GATED: '1' };
    // Each next process loads while the current one lives, so the kills come
    // in quick succession rather than one module-loading time apart.
    let next = start('life-1', options);
    for (let life = 1; life <= 16; life++) {
      const app = next;
      await app.waitForLine(/^loaded$/);
      app.signal('SIGUSR2');
      next = start(life < 16 ? `life-${life + 1}` : 'survivor', options);
      await app.ready();
      await poll(
        async () =>
          (
            await column(
              `SELECT schedule_id AS v FROM "${schema}".starts WHERE instance = 'life-${life}'`,
            )
          ).length > 0,
        `life ${life} to start delivering`,
        30_000,
        20,
      );
      await sleep(100);
      await app.stop('SIGKILL');
    }
    await next.waitForLine(/^loaded$/);
    next.signal('SIGUSR2');

    await poll(
      async () => (await pending()) === 0,
      'every schedule done',
      90_000,
    );
    const neverStarted = await deadNeverStarted();
    report(
      'e. scheduler killed 16 times',
      tally(500, ids, await fires()),
      {
        dead: (await dead()).length,
        'dead without having run': neverStarted.length,
      },
      neverStarted[0],
    );
  }, 150_000);
});
