import { jest } from '@jest/globals';
import { Scheduler, SystemClock } from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { createSchedulingApp } from '../../test/scheduling-app.js';
import {
  PaymentTimeout,
  Probe,
  ScheduleRecorder,
} from '../../test/scheduling.fixture.js';
import { waitUntil } from '../../test/wait-until.js';

const HOUR = 3_600_000;

// Instances on different machines disagree about the time; the database is
// the one clock they share. (PostgreSQL only: PGlite's clock is the process's.)
describe('the scheduler on the database clock, on PostgreSQL', () => {
  const database = postgresDatabase();
  const schema = freshSchema('skew');
  afterAll(async () => {
    await database.client().exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await database.close();
  });

  const databaseNowMs = async () =>
    Number(
      (
        await database.client().query<{
          ms: number;
        }>(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`)
      )[0].ms,
    );

  it('a process whose clock runs an hour ahead neither delivers early nor dates delays by its own clock', async () => {
    const realNow = Date.now.bind(Date);
    const skew = jest
      .spyOn(Date, 'now')
      .mockImplementation(() => realNow() + HOUR);
    const app = await createSchedulingApp({
      client: database.client(),
      schema,
      scheduling: { clock: new SystemClock() },
    });
    try {
      const scheduler = app.get(Scheduler);
      const recorder = app.get(ScheduleRecorder);
      const now = await databaseNowMs();
      const later = await scheduler.schedule(new PaymentTimeout('later'), {
        at: new Date(now + 30 * 60_000),
      });
      const delayed = await scheduler.schedule(new PaymentTimeout('delayed'), {
        delay: '30m',
      });
      // Due now by the database's clock: once it is delivered, the poller
      // has claimed everything it took to be due.
      await scheduler.schedule(new Probe(1), { at: new Date(now) });
      await waitUntil(() => recorder.of('Probe').length === 1, 'probe');

      expect(await scheduler.get(later)).toMatchObject({ attempts: 0 });
      const dueIn =
        ((await scheduler.get(delayed))?.dueAt.getTime() ?? 0) - now;
      expect(dueIn).toBeGreaterThanOrEqual(30 * 60_000);
      expect(dueIn).toBeLessThan(31 * 60_000);
      expect(recorder.of('PaymentTimeout')).toEqual([]);
    } finally {
      skew.mockRestore();
      await app.close();
    }
  });
});
