import type { INestApplicationContext } from '@nestjs/common';
import {
  CommandBus,
  ManualClock,
  MessageGateway,
  Scheduler,
  SQL_CLIENT,
  SystemClock,
  UnregisteredScheduleTypeError,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import { createSchedulingApp } from './scheduling-app.js';
import {
  ExpireOrder,
  Flaky,
  PaymentTimeout,
  PlaceWithTimeout,
  Probe,
  ScheduleRecorder,
  Slow,
} from './scheduling.fixture.js';
import { waitUntil } from './wait-until.js';

const START = new Date('2026-03-01T10:00:00Z');

/** The Scheduler in a Nest app, on the fixture's manual clock: the behaviour users rely on, on each database. */
export function schedulerSuite(database: () => TestDatabase): void {
  let app: INestApplicationContext;
  let clock: ManualClock;
  let scheduler: Scheduler;
  let recorder: ScheduleRecorder;
  let schema: string;
  let probes = 0;

  beforeEach(async () => {
    clock = new ManualClock(START);
    schema = freshSchema('sched');
    app = await createSchedulingApp({
      client: database().client(),
      schema,
      scheduling: { clock },
    });
    scheduler = app.get(Scheduler);
    recorder = app.get(ScheduleRecorder);
  });

  afterEach(async () => {
    await app?.close();
    await database().client().exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  /** Resolves once the poller has delivered a probe due now: everything due before it was looked at too. */
  async function settle(): Promise<void> {
    const n = ++probes;
    await scheduler.schedule(new Probe(n), { at: clock.now() });
    await waitUntil(
      () => recorder.of('Probe').some((d) => (d.payload as Probe).n === n),
      `probe ${n} delivered`,
    );
  }

  const rows = (client: SqlClient) =>
    client.query<{ id: string }>(
      `SELECT id FROM "${schema}".schedules WHERE periodic IS NULL`,
    );

  it('delivers a schedule payload to its @HandleSchedule method when the clock reaches its due time', async () => {
    const id = await scheduler.schedule(
      new PaymentTimeout('o-1'),
      { delay: '15m' },
      { metadata: { user: 'ada' } },
    );

    clock.advanceTimeBy('14m');
    await settle();
    expect(recorder.of('PaymentTimeout')).toEqual([]);
    expect(await scheduler.get(id)).toMatchObject({
      kind: 'schedule',
      type: 'test.PaymentTimeout',
      status: 'scheduled',
      payload: { orderId: 'o-1' },
      dueAt: new Date(START.getTime() + 15 * 60_000),
    });

    clock.advanceTimeBy('1m');
    await waitUntil(
      () => recorder.of('PaymentTimeout').length === 1,
      'timeout delivered',
    );
    const [delivery] = recorder.of('PaymentTimeout');
    expect(delivery.payload).toBeInstanceOf(PaymentTimeout);
    expect(delivery.payload).toEqual(new PaymentTimeout('o-1'));
    expect(delivery.context).toMatchObject({
      scheduleId: id,
      attempt: 1,
      dueAt: new Date(START.getTime() + 15 * 60_000),
    });
    expect(delivery.metadata).toMatchObject({ user: 'ada' });
    await waitUntil(
      async () => (await scheduler.get(id)) === undefined,
      'delivered schedule removed',
    );
  });

  it('cancel before the due time prevents delivery', async () => {
    const id = await scheduler.schedule(new PaymentTimeout('o-2'), {
      delay: '15m',
    });
    await scheduler.cancel(id);
    expect(await scheduler.get(id)).toBeUndefined();

    clock.advanceTimeBy('1h');
    await settle();
    expect(recorder.of('PaymentTimeout')).toEqual([]);
  });

  it('scheduling again with the same id replaces the schedule', async () => {
    await scheduler.schedule(
      new PaymentTimeout('first'),
      { delay: '10m' },
      { id: 'timeout-o-3' },
    );
    await scheduler.schedule(
      new PaymentTimeout('second'),
      { delay: '20m' },
      { id: 'timeout-o-3' },
    );

    clock.advanceTimeBy('10m');
    await settle();
    expect(recorder.of('PaymentTimeout')).toEqual([]);

    clock.advanceTimeBy('10m');
    await waitUntil(
      () => recorder.of('PaymentTimeout').length === 1,
      'replacement delivered',
    );
    await settle();
    expect(recorder.of('PaymentTimeout').map((d) => d.payload)).toEqual([
      new PaymentTimeout('second'),
    ]);
  });

  it('delivers a scheduled command through the command bus, as a command caused by its scheduler', async () => {
    const id = await scheduler.schedule(new ExpireOrder('o-4'), {
      at: new Date(START.getTime() + 60_000),
    });
    clock.advanceTimeBy('1m');
    await waitUntil(
      () => recorder.of('ExpireOrder').length === 1,
      'command delivered',
    );
    const [delivery] = recorder.of('ExpireOrder');
    expect(delivery.payload).toBeInstanceOf(ExpireOrder);
    expect(delivery.payload).toMatchObject({ orderId: 'o-4' });
    await waitUntil(
      async () => (await scheduler.get(id)) === undefined,
      'delivered command removed',
    );
  });

  it('a schedule made inside a command is stored with it, and not at all when the command fails', async () => {
    const commands = app.get(CommandBus);
    await expect(
      commands.execute(new PlaceWithTimeout('failed', true)),
    ).rejects.toThrow('payment provider refused');
    expect(await scheduler.get('timeout-failed')).toBeUndefined();

    await commands.execute(new PlaceWithTimeout('placed', false));
    const stored = await scheduler.get('timeout-placed');
    expect(stored).toMatchObject({ payload: { orderId: 'placed' } });

    clock.advanceTimeBy('15m');
    await waitUntil(
      () => recorder.of('PaymentTimeout').length === 1,
      'timeout of the committed command delivered',
    );
    const [delivery] = recorder.of('PaymentTimeout');
    expect(delivery.payload).toEqual(new PaymentTimeout('placed'));
    // Caused by the command that scheduled it, in its conversation.
    expect(delivery.metadata?.causationId).toBeDefined();
    expect(delivery.metadata?.correlationId).toBe(
      delivery.metadata?.causationId,
    );
    // Delivered schedules are removed just after their handler returns (the
    // settling probe included): nothing is left once that has happened.
    await waitUntil(
      async () => (await rows(app.get(SQL_CLIENT))).length === 0,
      'every delivered schedule removed',
    );
  });

  it('retries a failing delivery with back-off, then records it as dead with its error', async () => {
    const recovers = await scheduler.schedule(new Flaky(1), {
      at: clock.now(),
    });
    const dies = await scheduler.schedule(new Flaky(99), { at: clock.now() });
    await waitUntil(
      () => recorder.of('Flaky').length === 2,
      'first tries made',
    );
    await waitUntil(
      async () => (await scheduler.get(dies))?.lastError !== undefined,
      'first failure recorded',
    );
    expect(await scheduler.get(dies)).toMatchObject({
      status: 'scheduled',
      attempts: 1,
      lastError: 'Error: flaky failure 1',
      dueAt: new Date(clock.nowMs() + 10_000),
    });
    await waitUntil(
      async () => (await scheduler.get(recovers))?.lastError !== undefined,
      'first failure of the other recorded',
    );

    clock.advanceTimeBy('10s'); // second tries: `recovers` succeeds
    await waitUntil(
      () => recorder.of('Flaky').length === 4,
      'second tries made',
    );
    await waitUntil(
      async () => (await scheduler.get(recovers)) === undefined,
      'recovered schedule removed',
    );

    await waitUntil(
      async () =>
        (await scheduler.get(dies))?.lastError === 'Error: flaky failure 2',
      'second failure recorded',
    );
    clock.advanceTimeBy('20s'); // the back-off doubled; third and last try
    await waitUntil(
      async () => (await scheduler.get(dies))?.status === 'dead',
      'schedule recorded as dead',
    );
    expect(await scheduler.get(dies)).toMatchObject({
      status: 'dead',
      attempts: 3,
      lastError: 'Error: flaky failure 3',
    });

    clock.advanceTimeBy('1d');
    await settle();
    expect(recorder.of('Flaky')).toHaveLength(5);
  });

  it('fires a @Periodic method each occurrence; a failed run is retried and the next occurrence stays armed', async () => {
    clock.advanceTimeBy('5m');
    await waitUntil(
      () => recorder.of('cleanup').length === 1,
      'first occurrence',
    );
    expect(recorder.of('cleanup')[0].context?.dueAt).toEqual(
      new Date(START.getTime() + 5 * 60_000),
    );
    // Move on only once the next occurrence is armed: moving the clock past
    // the claim lease of a delivery still under way would (rightly) let the
    // poller claim that occurrence again.
    await waitUntil(
      async () =>
        (await scheduler.get('test.cleanup'))?.occurrenceAt.getTime() ===
        START.getTime() + 10 * 60_000,
      'second occurrence armed',
    );

    recorder.failCleanup = true;
    clock.advanceTimeBy('5m');
    await waitUntil(
      () => recorder.of('cleanup').length === 2,
      'second occurrence tried',
    );
    await waitUntil(
      async () =>
        (await scheduler.get('test.cleanup'))?.lastError ===
        'Error: cleanup failed',
      'failure recorded',
    );
    recorder.failCleanup = false;
    clock.advanceTimeBy('10s');
    await waitUntil(
      () => recorder.of('cleanup').length === 3,
      'second occurrence retried',
    );
    expect(recorder.of('cleanup')[2].context).toMatchObject({
      attempt: 2,
      dueAt: new Date(START.getTime() + 10 * 60_000),
    });
    await waitUntil(
      async () =>
        (await scheduler.get('test.cleanup'))?.occurrenceAt.getTime() ===
        START.getTime() + 15 * 60_000,
      'next occurrence armed',
    );

    clock.advanceTimeBy(290_000); // to 10:15, the third occurrence
    await waitUntil(
      () => recorder.of('cleanup').length === 4,
      'third occurrence',
    );
  });

  it('schedulePeriodic delivers a message on a cron in a time zone until cancelled', async () => {
    // 10:00 UTC is 11:00 in Amsterdam on 1 March: the next 12:00 there is 11:00 UTC.
    const id = await scheduler.schedulePeriodic(
      new ExpireOrder('nightly'),
      { cron: '0 12 * * *', timeZone: 'Europe/Amsterdam' },
      { id: 'expire-nightly' },
    );
    expect(id).toBe('expire-nightly');
    expect((await scheduler.get(id))?.dueAt).toEqual(
      new Date('2026-03-01T11:00:00Z'),
    );
    clock.setTime(new Date('2026-03-01T11:00:00Z'));
    await waitUntil(
      () => recorder.of('ExpireOrder').length === 1,
      'first cron occurrence',
    );
    await waitUntil(
      async () =>
        (await scheduler.get(id))?.dueAt.getTime() ===
        new Date('2026-03-02T11:00:00Z').getTime(),
      'next day armed',
    );
    // Each occurrence is its own command (its own id), not a replay of the first.
    clock.setTime(new Date('2026-03-02T11:00:00Z'));
    await waitUntil(
      () => recorder.of('ExpireOrder').length === 2,
      'second cron occurrence',
    );
    await scheduler.cancel(id);
    clock.advanceTimeBy('2d');
    await settle();
    expect(recorder.of('ExpireOrder')).toHaveLength(2);
  });

  it('a delivery that runs several times longer than its claim runs once, and completes', async () => {
    // The real clock, and a claim far shorter than the job: only a renewed
    // claim keeps the poller from taking the row again while it runs.
    const slowSchema = freshSchema('slow');
    const slowApp = await createSchedulingApp({
      client: database().client(),
      schema: slowSchema,
      scheduling: { clock: new SystemClock(), claimTimeout: 200 },
    });
    try {
      const slowScheduler = slowApp.get(Scheduler);
      const slowRecorder = slowApp.get(ScheduleRecorder);
      const id = await slowScheduler.schedule(new Slow(1_200), {
        at: new Date(0),
      });
      await waitUntil(
        async () =>
          (await slowScheduler.get(id)) === undefined ||
          (await slowScheduler.get(id))?.status === 'dead',
        'the slow schedule settled',
      );
      expect(await slowScheduler.get(id)).toBeUndefined();
      await waitUntil(
        () => slowRecorder.of('Slow committed').length > 0,
        'the slow delivery committed',
      );
      expect(slowRecorder.of('Slow started')).toHaveLength(1);
      expect(slowRecorder.of('Slow committed')).toHaveLength(1);
    } finally {
      await slowApp.close();
      await database()
        .client()
        .exec(`DROP SCHEMA IF EXISTS "${slowSchema}" CASCADE`);
    }
  });

  it('refuses a message it could not deliver, and says how to fix it', async () => {
    class Unnamed {}
    await expect(
      scheduler.schedule(new Unnamed(), { delay: '1m' }),
    ).rejects.toThrow(UnregisteredScheduleTypeError);
    await expect(
      scheduler.schedule(new PaymentTimeout('x'), { delay: 'soon' }),
    ).rejects.toThrow('is not a length of time');
    expect(app.get(MessageGateway)).toBeDefined();
  });
}
