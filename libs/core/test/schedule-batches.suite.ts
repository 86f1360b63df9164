import type { INestApplicationContext } from '@nestjs/common';
import {
  ManualClock,
  Scheduler,
  SQL_CLIENT,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import { createSchedulingApp } from './scheduling-app.js';
import {
  ExpireOrder,
  ExpireVia,
  Flaky,
  PaymentTimeout,
  ScheduleRecorder,
} from './scheduling.fixture.js';
import { waitUntil } from './wait-until.js';

const START = new Date('2026-03-01T10:00:00Z');

/**
 * Deliveries that write nothing of their own (a payload whose handler staged
 * nothing, a command recorded by its own transaction) are removed, or
 * re-armed, many rows per statement: what that must keep, on each database.
 */
export function scheduleBatchesSuite(database: () => TestDatabase): void {
  let app: INestApplicationContext;
  let clock: ManualClock;
  let scheduler: Scheduler;
  let recorder: ScheduleRecorder;
  let sql: SqlClient;
  let schema: string;

  beforeEach(async () => {
    clock = new ManualClock(START);
    schema = freshSchema('batch');
    app = await createSchedulingApp({
      client: database().client(),
      schema,
      scheduling: { clock },
    });
    scheduler = app.get(Scheduler);
    recorder = app.get(ScheduleRecorder);
    sql = app.get(SQL_CLIENT);
  });

  afterEach(async () => {
    await app?.close();
    await database().client().exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  const oneOffs = async () =>
    (
      await sql.query<{ id: string }>(
        `SELECT id FROM "${schema}".schedules WHERE periodic IS NULL ORDER BY id`,
      )
    ).map((row) => row.id);

  it('removes the delivered rows of a batch and retries the one whose delivery failed', async () => {
    const fine = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        scheduler.schedule(new Flaky(0), { at: clock.now() }, { id: `f${i}` }),
      ),
    );
    const failing = await scheduler.schedule(
      new Flaky(1),
      { at: clock.now() },
      { id: 'failing' },
    );
    await waitUntil(
      () => recorder.of('Flaky').length === fine.length + 1,
      'every row delivered once',
    );
    await waitUntil(
      async () => (await oneOffs()).length === 1,
      'the delivered rows removed',
    );
    expect(await oneOffs()).toEqual([failing]);
    await waitUntil(
      async () => (await scheduler.get(failing))?.lastError !== undefined,
      'the failure recorded',
    );
    expect(await scheduler.get(failing)).toMatchObject({
      status: 'scheduled',
      attempts: 1,
      lastError: 'Error: flaky failure 1',
      dueAt: new Date(START.getTime() + 10_000),
    });

    clock.advanceTimeBy('10s');
    await waitUntil(
      async () => (await oneOffs()).length === 0,
      'the retried row delivered and removed',
    );
    expect(recorder.of('Flaky')).toHaveLength(fine.length + 2);
  });

  it('a row delivered again because its removal did not happen (a crash, a lost claim) changes nothing again: a scheduled command', async () => {
    const id = await scheduler.schedule(new ExpireOrder('o-crash'), {
      at: clock.now(),
    });
    await expectDeliveredOnceInEffect(id);
  });

  it('the same for a payload whose handler sends a command through the bus and writes nothing itself', async () => {
    const id = await scheduler.schedule(new ExpireVia('o-crash'), {
      at: clock.now(),
    });
    await expectDeliveredOnceInEffect(id);
    // Its handler ran twice; the command it sent, once.
    expect(recorder.of('ExpireVia')).toHaveLength(2);
  });

  /**
   * While the first delivery's command runs, the row's claim is taken from
   * this instance, as another instance takes it once a crashed one's lease
   * has run out: the batch's removal finds it no longer held, and the row is
   * delivered a second time (only that delivery's removal can remove it).
   * That second delivery sends the command under the same id: it returns the
   * first result, and the command's handler does not run again.
   */
  async function expectDeliveredOnceInEffect(id: string): Promise<void> {
    let lost = 0;
    recorder.onExpire = async () => {
      if (lost++ > 0) return;
      await sql.query(
        `UPDATE "${schema}".schedules SET claim_token = gen_random_uuid(), claimed_until = NULL WHERE id = $1`,
        [id],
      );
    };
    await waitUntil(
      async () => (await scheduler.get(id)) === undefined,
      'the row removed after its second delivery',
    );
    expect(lost).toBe(1);
    expect(recorder.of('ExpireOrder')).toHaveLength(1);
    const [record] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".handled_commands`,
    );
    expect(Number(record.n)).toBe(1);
  }

  it('re-arms the periodic rows of a batch, each for its next occurrence under a new delivery id, and removes the one-offs', async () => {
    const ticks = ['tick-1', 'tick-2', 'tick-3'];
    for (const id of ticks) {
      await scheduler.schedulePeriodic(
        new PaymentTimeout(id),
        { every: '1m' },
        { id },
      );
    }
    await scheduler.schedule(
      new PaymentTimeout('once'),
      { delay: '1m' },
      { id: 'once' },
    );

    clock.advanceTimeBy('1m');
    await waitUntil(
      () => recorder.of('PaymentTimeout').length === 4,
      'first occurrences and the one-off delivered',
    );
    const armed = async () =>
      Promise.all(ticks.map(async (id) => scheduler.get(id)));
    await waitUntil(
      async () =>
        (await armed()).every(
          (s) => s?.occurrenceAt.getTime() === START.getTime() + 120_000,
        ),
      'every periodic row re-armed',
    );
    expect(await scheduler.get('once')).toBeUndefined();
    for (const s of await armed()) {
      expect(s).toMatchObject({ status: 'scheduled', attempts: 0 });
    }

    clock.advanceTimeBy('1m');
    await waitUntil(
      () => recorder.of('PaymentTimeout').length === 7,
      'second occurrences delivered',
    );
    const byTick = (id: string) =>
      recorder
        .of('PaymentTimeout')
        .filter((d) => (d.payload as PaymentTimeout).orderId === id)
        .map((d) => d.context);
    for (const id of ticks) {
      const [first, second] = byTick(id);
      expect(first?.dueAt).toEqual(new Date(START.getTime() + 60_000));
      expect(second?.dueAt).toEqual(new Date(START.getTime() + 120_000));
      expect(second?.deliveryId).not.toBe(first?.deliveryId);
    }
  });
}
