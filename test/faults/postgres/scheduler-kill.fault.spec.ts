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

  // The jobs only: the app keeps periodic schedules of its own (cleanup).
  const JOB = `type = 'faults.Job'`;
  const column = async (sql: string): Promise<string[]> =>
    (await pool.query<{ v: string }>(sql)).rows.map((r) => r.v);
  const fires = () => column(`SELECT schedule_id AS v FROM "${schema}".fires`);
  const pending = async () =>
    (
      await column(
        `SELECT id AS v FROM "${schema}".schedules WHERE ${JOB} AND status = 'scheduled'`,
      )
    ).length;
  /** Each dead job: its id and error, and how many of its deliveries began. */
  const deadJobs = async () =>
    (
      await pool.query<{ id: string; error: string; starts: number }>(
        `SELECT s.id, coalesce(s.last_error, '') AS error,
                (SELECT count(*)::int FROM "${schema}".starts r WHERE r.schedule_id = s.id) AS starts
         FROM "${schema}".schedules s WHERE ${JOB} AND s.status = 'dead'`,
      )
    ).rows;
  /**
   * Waits until no schedule is pending; if some still are after a while, a
   * description of them and of the last instance's log, for the failure.
   */
  async function settled(): Promise<string | undefined> {
    const done = await poll(
      async () => (await pending()) === 0,
      'every schedule done',
      75_000,
    ).then(
      () => true,
      () => false,
    );
    if (done) return undefined;
    const rows = await column(
      `SELECT count(*) || ' ' || status || ', attempts ' || attempts || CASE WHEN claimed_until IS NULL THEN ', unclaimed' ELSE ', claimed' END || ', ' || coalesce(left(last_error, 100), 'no error') AS v
       FROM "${schema}".schedules WHERE ${JOB} GROUP BY status, attempts, claimed_until IS NULL, left(last_error, 100)`,
    );
    const last = apps[apps.length - 1];
    return `still pending: ${rows.join('; ')}; ${last.name}'s stderr: ${last.errors().slice(-1_500)}`;
  }

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

    const stuck = await settled();
    const buried = await deadJobs();
    report(
      'd. scheduler killed while 1,000 fire',
      tally(1_000, ids, await fires()),
      { dead: buried.length },
      stuck ?? (buried[0] && `${buried[0].id}: ${buried[0].error}`),
    );
  }, 120_000);

  it('e. an instance killed 16 times in quick succession with a short claim: every schedule fires once or is dead after its deliveries were killed 5 times, none ends dead without having run (point 17)', async () => {
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

    const stuck = await settled();
    // A job whose delivery began, and was killed, on each of its 5 tries is
    // dead by the rules and kept with its error: not lost. One that never
    // even began is what point 17 is about. (A try is charged just before the
    // handler records its start, so a kill in between can show 4 starts of 5.)
    const buried = await deadJobs();
    const neverRan = buried.filter((job) => job.starts === 0);
    const byStarts = new Map<number, number>();
    for (const job of buried) {
      byStarts.set(job.starts, (byStarts.get(job.starts) ?? 0) + 1);
    }
    process.stdout.write(
      `[fault] e. dead jobs by deliveries begun: ${[...byStarts].map(([starts, n]) => `${n} after ${starts}`).join(', ') || 'none'}\n`,
    );
    report(
      'e. scheduler killed 16 times',
      tally(500, ids, [...(await fires()), ...buried.map((job) => job.id)]),
      { 'dead without having run': neverRan.length },
      stuck ?? (neverRan[0] && `${neverRan[0].id}: ${neverRan[0].error}`),
    );
  }, 150_000);
});
