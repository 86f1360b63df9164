import type { INestApplicationContext } from '@nestjs/common';
import {
  ManualClock,
  Scheduler,
  SchedulingRunner,
  type SqlClient,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { createSchedulingApp } from '../../test/scheduling-app.js';
import {
  ExpireOrder,
  PaymentTimeout,
  ScheduleRecorder,
} from '../../test/scheduling.fixture.js';
import { waitUntil } from '../../test/wait-until.js';

const START = new Date('2026-03-01T10:00:00Z');

/** Two instances of one app on one PostgreSQL schema, each with its own pool, as two processes would be. */
describe('Scheduler with two instances on PostgreSQL', () => {
  const database = postgresDatabase();
  const schema = freshSchema('sched2');
  let clients: SqlClient[];
  let apps: INestApplicationContext[];
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(START);
    clients = [database.otherClient(), database.otherClient()];
    apps = [];
    for (const client of clients) {
      apps.push(
        await createSchedulingApp({ client, schema, scheduling: { clock } }),
      );
    }
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await database.client().exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await database.close();
  });

  const recorders = () => apps.map((app) => app.get(ScheduleRecorder));
  const cleanups = () => recorders().flatMap((r) => r.of('cleanup'));

  it('a @Periodic schedule fires once per occurrence across both instances', async () => {
    for (let occurrence = 1; occurrence <= 3; occurrence++) {
      clock.advanceTimeBy('5m');
      await waitUntil(
        () => cleanups().length >= occurrence,
        `occurrence ${occurrence}`,
      );
      const scheduler = apps[0].get(Scheduler);
      // The next occurrence is armed only once this one is done: then no
      // instance can still fire it.
      await waitUntil(
        async () =>
          (await scheduler.get('test.cleanup'))?.occurrenceAt.getTime() ===
          START.getTime() + (occurrence + 1) * 5 * 60_000,
        `occurrence ${occurrence + 1} armed`,
      );
      expect(cleanups()).toHaveLength(occurrence);
    }
    const dueTimes = cleanups()
      .map((d) => d.context?.dueAt.getTime() ?? 0)
      .sort((a, b) => a - b);
    expect(dueTimes).toEqual(
      [1, 2, 3].map((k) => START.getTime() + k * 300_000),
    );
  });

  it("wakes the other instance's poller with NOTIFY when a schedule is written", async () => {
    for (const app of apps) {
      expect(app.get(SchedulingRunner).running?.listening).toBe(true);
    }
    // Both pollers sleep for an hour of clock time. A third instance that
    // does not deliver writes a schedule due now: it can only reach the two
    // pollers through the database's NOTIFY, as from another process.
    const writer = await createSchedulingApp({
      client: database.otherClient(),
      schema,
      scheduling: { clock, enabled: false },
    });
    const before = recorders().map((r) => r.of('PaymentTimeout').length);
    await writer.get(Scheduler).schedule(new PaymentTimeout('now'), {
      at: clock.now(),
    });
    await writer.close();
    await waitUntil(
      () =>
        recorders().reduce((n, r) => n + r.of('PaymentTimeout').length, 0) ===
        before.reduce((a, b) => a + b, 0) + 1,
      'schedule delivered by either instance',
    );
  });

  it('leaves a scheduled command it has no class for to the apps that have it', async () => {
    const scheduler = apps[0].get(Scheduler);
    // As another app sharing the store would write it: a command private to that app.
    const foreign = await scheduler.schedule(
      new ExpireOrder('o-foreign'),
      { delay: '1m' },
      { id: 'foreign-command' },
    );
    await database
      .client()
      .query(
        `UPDATE "${schema}".schedules SET type = 'elsewhere.PrivateCommand' WHERE id = $1`,
        [foreign],
      );
    // A command both instances know, due later: once it has run, the pollers
    // have looked at the foreign one and passed it by.
    await scheduler.schedule(new ExpireOrder('o-known'), { delay: '2m' });
    clock.advanceTimeBy('2m');
    await waitUntil(
      () => recorders().some((r) => r.of('ExpireOrder').length > 0),
      'the known command delivered',
    );
    expect(await scheduler.get(foreign)).toMatchObject({
      status: 'scheduled',
      attempts: 0,
    });
  });
});
