import type { INestApplicationContext } from '@nestjs/common';
import {
  EventStore,
  TrackingService,
  deriveMessageId,
  historyCleanupScheduleId,
  listProcesses,
  ProcessHistoryCleanup,
  SweepProcessHistory,
  MessageLog,
  MessageLogWriter,
  traceText,
  type TraceNode,
  ManualClock,
  processConsumerName,
  type PostgresEventStore,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  card,
  deadlines,
  flaky,
  paid,
  placed,
  processApp,
  refundRequested,
  shipped,
  type FulfilmentState,
} from './processes.fixture.js';
import { waitUntil } from './wait-until.js';

const CONSUMER = processConsumerName('order-fulfilment');

interface InstanceRow {
  readonly state: FulfilmentState;
  readonly status: string;
  readonly version: number;
}

interface DeadlineRow {
  readonly deadlines: Record<string, { readonly scheduleId: string }>;
}

/** Process managers on the tracking machinery, on each database. */
export function processesSuite(database: () => TestDatabase): void {
  let schema: string;
  let client: SqlClient;
  let app: INestApplicationContext;
  let store: PostgresEventStore;
  let clock: ManualClock;

  const instance = async (key: string): Promise<InstanceRow | undefined> => {
    const [row] = await client.query<InstanceRow>(
      `SELECT state, status, version FROM "${schema}".process_instances
       WHERE name = 'order-fulfilment' AND key = $1`,
      [key],
    );
    return row;
  };

  const steps = async (key: string): Promise<string[]> =>
    (
      await client.query<{ event_type: string }>(
        `SELECT event_type FROM "${schema}".process_steps
         WHERE name = 'order-fulfilment' AND key = $1 ORDER BY event_position`,
        [key],
      )
    ).map((r) => r.event_type);

  /** Whether the process manager's consumer has read to the head of the log. */
  const caughtUp = async (): Promise<boolean> => {
    const [health] = await app.get(TrackingService).health(CONSUMER);
    return health.segments.every((s) => s.behind === 0);
  };

  beforeEach(async () => {
    schema = freshSchema('pm');
    client = database().client();
    card.charged = [];
    flaky.failOnce.clear();
    flaky.attempts = 0;
    deadlines.timedOut = [];
    clock = new ManualClock(new Date('2026-12-04T12:00:00Z'));
    app = await processApp(client, schema, clock);
    store = app.get(EventStore) as PostgresEventStore;
  });

  afterEach(async () => {
    await app.close();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('starts, continues and ends instances by association key, each seeing only its own events', async () => {
    await store.append('order-1', [placed('o-1', 10)]);
    await store.append('order-2', [placed('o-2', 20)]);
    await store.append('payment-1', [paid('o-1')]);
    await store.append('shipment-1', [shipped('o-1')]);
    await waitUntil(
      async () => (await instance('o-1'))?.status === 'ended',
      'order o-1 ended',
    );
    await expect(instance('o-1')).resolves.toEqual({
      state: {
        orderId: 'o-1',
        amount: 10,
        paid: true,
        seen: ['placed', 'paid:o-1', 'shipped'],
      },
      status: 'ended',
      version: 3,
    });
    await waitUntil(caughtUp, 'the process manager caught up');
    // The other instance saw only its own start.
    await expect(instance('o-2')).resolves.toEqual({
      state: { orderId: 'o-2', amount: 20, paid: false, seen: ['placed'] },
      status: 'live',
      version: 1,
    });
    await expect(steps('o-1')).resolves.toEqual([
      'pm.OrderPlaced',
      'pm.PaymentAuthorized',
      'pm.OrderShipped',
    ]);
    await waitUntil(
      () => card.charged.length === 2,
      'both instances charged the card',
    );
    expect(card.charged.map((c) => c.orderId).sort()).toEqual(['o-1', 'o-2']);
  });

  it('passes over events for a key with no live instance, and continues a live one on a second start', async () => {
    // No instance, and PaymentAuthorized does not start one.
    await store.append('payment-9', [paid('o-9')]);
    await store.append('order-3', [placed('o-3', 5)]);
    await store.append('order-3b', [placed('o-3', 7)]);
    await store.append('shipment-3', [shipped('o-3')]);
    // After the end: neither a continuation nor a new start.
    await store.append('payment-3', [paid('o-3')]);
    await store.append('order-3c', [placed('o-3', 100)]);
    await waitUntil(caughtUp, 'the process manager caught up');
    await expect(instance('o-9')).resolves.toBeUndefined();
    await expect(instance('o-3')).resolves.toMatchObject({
      state: { amount: 12, paid: false, seen: ['placed', 'placed', 'shipped'] },
      status: 'ended',
    });
    await expect(steps('o-9')).resolves.toEqual([]);
  });

  it('sends one command id when a step is re-run after failing between sending and commit', async () => {
    flaky.failOnce.add('o-4');
    const [event] = [placed('o-4', 40)];
    await store.append('order-4', [event]);
    await waitUntil(
      async () => (await instance('o-4')) !== undefined,
      'order o-4 started',
    );
    await waitUntil(() => card.charged.length > 0, 'the card was charged');
    await waitUntil(caughtUp, 'the process manager caught up');
    // The step ran twice; its first run's send and state went with its rollback.
    expect(flaky.attempts).toBe(2);
    await expect(instance('o-4')).resolves.toMatchObject({
      state: { amount: 40, seen: ['placed'] },
      version: 1,
    });
    // The id is derived from the event, the process, its key and the method:
    // any re-run, on any instance of the app, sends this same id.
    const expected = deriveMessageId(
      event.id,
      'process:order-fulfilment:o-4:onPlaced',
      'pm.ChargeCard',
      0,
    );
    expect(card.charged).toEqual([{ id: expected, orderId: 'o-4' }]);
  });

  it('passes over the events an instance handled before when the log is replayed', async () => {
    await store.append('order-5', [placed('o-5', 50)]);
    await store.append('payment-5', [paid('o-5')]);
    await waitUntil(
      async () => (await instance('o-5'))?.state.paid === true,
      'order o-5 paid',
    );
    await waitUntil(() => card.charged.length === 1, 'the card was charged');
    const before = await instance('o-5');

    await app.get(TrackingService).reset(CONSUMER, { to: 'beginning' });
    await store.append('order-6', [placed('o-6', 60)]);
    await waitUntil(
      async () => (await instance('o-6')) !== undefined,
      'the replay reached the new order',
    );
    await waitUntil(() => card.charged.length === 2, 'o-6 was charged');
    await expect(instance('o-5')).resolves.toEqual(before);
    await expect(steps('o-5')).resolves.toEqual([
      'pm.OrderPlaced',
      'pm.PaymentAuthorized',
    ]);
    expect(card.charged.map((c) => c.orderId)).toEqual(['o-5', 'o-6']);
  });

  it('leaves an event without its key to the error policy (here: skipped, with a dead letter)', async () => {
    await store.append('payment-x', [paid('')]);
    await store.append('order-7', [placed('o-7', 70)]);
    await waitUntil(
      async () => (await instance('o-7')) !== undefined,
      'the event after it ran',
    );
    // Keyless, it went to segment 0, which may come to it after o-7's segment.
    const letters = () =>
      client.query<{ error: string }>(
        `SELECT error FROM "${schema}".dead_letters WHERE consumer = $1`,
        [CONSUMER],
      );
    await waitUntil(async () => (await letters()).length > 0, 'a dead letter');
    expect(await letters()).toEqual([
      {
        error: expect.stringContaining(
          'found no association key in pm.PaymentAuthorized',
        ),
      },
    ]);
  });

  it('hands a command that failed for good back to the instance that sent it', async () => {
    await store.append('order-20', [placed('o-20', 1)]);
    await store.append('order-21', [placed('o-21', 1)]);
    await store.append('refund-20', [refundRequested('o-20')]);
    await waitUntil(
      async () => (await instance('o-20'))?.state.seen.length === 2,
      'the failure reached o-20',
    );
    await expect(instance('o-20')).resolves.toMatchObject({
      state: { seen: ['placed', 'refund failed: no refunds for o-20'] },
      status: 'live',
    });
    await expect(steps('o-20')).resolves.toEqual([
      'pm.OrderPlaced',
      'pm.RefundRequested',
      'chronicle.Error',
    ]);
    await expect(instance('o-21')).resolves.toMatchObject({
      state: { seen: ['placed'] },
    });
  });

  it('lists instances with their state, status, open deadlines and history', async () => {
    const event = placed('o-30', 3);
    await store.append('order-30', [event]);
    await store.append('order-31', [placed('o-31', 4)]);
    await store.append('shipment-31', [shipped('o-31')]);
    await waitUntil(caughtUp, 'the process manager caught up');
    const all = await listProcesses(client, store.schema, {
      name: 'order-fulfilment',
    });
    expect(all.map((i) => [i.key, i.status]).sort()).toEqual([
      ['o-30', 'live'],
      ['o-31', 'ended'],
    ]);
    const [one] = await listProcesses(client, store.schema, {
      name: 'order-fulfilment',
      key: 'o-30',
    });
    expect(one).toMatchObject({
      key: 'o-30',
      status: 'live',
      version: 1,
      state: { orderId: 'o-30', amount: 3 },
      deadlines: [{ name: 'payment', dueAt: '2026-12-04T12:15:00.000Z' }],
      history: [
        {
          messageId: event.id,
          messageType: 'pm.OrderPlaced',
          commands: [expect.any(String)],
        },
      ],
    });
    const [ended] = await listProcesses(client, store.schema, {
      name: 'order-fulfilment',
      key: 'o-31',
    });
    expect(ended.deadlines).toEqual([]);
    expect(ended.endedAt).toEqual(expect.any(Date));
  });

  it('sweeps the history of instances that ended longer ago than the retention, and keeps them ended', async () => {
    await store.append('order-50', [placed('o-50', 1)]);
    await store.append('shipment-50', [shipped('o-50')]);
    await store.append('order-51', [placed('o-51', 1)]);
    await store.append('shipment-51', [shipped('o-51')]);
    await store.append('order-52', [placed('o-52', 1)]);
    await waitUntil(caughtUp, 'the process manager caught up');
    // o-50 ended 31 days ago; o-51 just now; o-52 is live.
    await client.query(
      `UPDATE "${schema}".process_instances SET ended_at = now() - interval '31 days'
       WHERE name = 'order-fulfilment' AND key = 'o-50'`,
    );
    const [periodic] = await client.query<{ payload: object }>(
      `SELECT payload FROM "${schema}".schedules WHERE id = $1`,
      [historyCleanupScheduleId('order-fulfilment')],
    );
    expect(periodic?.payload).toEqual({
      process: 'order-fulfilment',
      retentionMs: 30 * 24 * 3_600_000,
    });
    const swept = await app
      .get(ProcessHistoryCleanup)
      .sweep(new SweepProcessHistory('order-fulfilment', 30 * 24 * 3_600_000));
    expect(swept).toBe(2);
    await expect(steps('o-50')).resolves.toEqual([]);
    await expect(steps('o-51')).resolves.toHaveLength(2);
    await expect(steps('o-52')).resolves.toHaveLength(1);
    // Still ended: a late start for its key is passed over.
    await store.append('order-50b', [placed('o-50', 1)]);
    await waitUntil(caughtUp, 'the process manager caught up');
    await expect(instance('o-50')).resolves.toMatchObject({
      status: 'ended',
    });
    await expect(steps('o-50')).resolves.toEqual([]);
  });

  it("shows its steps in the message log's correlation tree, with the commands they sent", async () => {
    const event = placed('o-40', 5);
    await store.append('order-40', [event]);
    await waitUntil(
      () => card.charged.some((c) => c.orderId === 'o-40'),
      'the card charged for o-40',
    );
    const log = app.get(MessageLog);
    await app.get(MessageLogWriter).flush();
    const trace = await log.trace(event.id);
    const root = trace?.root;
    expect(root).toMatchObject({ kind: 'event', id: event.id });
    expect(root?.processSteps).toEqual([
      {
        process: 'order-fulfilment',
        key: 'o-40',
        method: 'onPlaced',
        commands: [expect.any(String)],
        at: expect.any(String),
      },
    ]);
    // The command the step sent hangs below the event that ran the step.
    const sent = root?.processSteps?.[0].commands[0];
    const below = (node: TraceNode): string[] => [
      node.id,
      ...node.children.flatMap(below),
    ];
    expect(root && below(root)).toContain(sent);
    expect(traceText(trace!)).toContain(
      'process order-fulfilment[o-40].onPlaced → 1 command',
    );
  });

  describe('deadlines', () => {
    const open = async (key: string) => {
      const [row] = await client.query<DeadlineRow>(
        `SELECT deadlines FROM "${schema}".process_instances
         WHERE name = 'order-fulfilment' AND key = $1`,
        [key],
      );
      return Object.keys(row?.deadlines ?? {});
    };
    const scheduled = async (): Promise<string[]> =>
      (
        await client.query<{ id: string }>(
          `SELECT id FROM "${schema}".schedules
           WHERE type = 'chronicle.process.order-fulfilment.deadline' ORDER BY id`,
        )
      ).map((r) => r.id);

    it('delivers a deadline once, to the instance that set it', async () => {
      await store.append('order-10', [placed('o-10', 1)]);
      await store.append('order-11', [placed('o-11', 1)]);
      await waitUntil(caughtUp, 'both orders started');
      await expect(open('o-10')).resolves.toEqual(['payment']);
      await expect(scheduled()).resolves.toEqual([
        'process:order-fulfilment:o-10:payment',
        'process:order-fulfilment:o-11:payment',
      ]);

      clock.advanceTimeBy('16m');
      await waitUntil(
        async () =>
          (await scheduled()).length === 0 &&
          (await open('o-10')).length === 0 &&
          (await open('o-11')).length === 0,
        'both deadlines delivered',
      );
      expect([...deadlines.timedOut].sort()).toEqual(['o-10', 'o-11']);
      await expect(instance('o-10')).resolves.toMatchObject({
        state: { seen: ['placed', 'timed-out'] },
        version: 2,
      });
      await expect(steps('o-11')).resolves.toEqual([
        'pm.OrderPlaced',
        'pm.PaymentTimedOut',
      ]);
    });

    it('does not deliver a cancelled deadline, nor one of an ended instance', async () => {
      await store.append('order-12', [placed('o-12', 1)]);
      await store.append('order-13', [placed('o-13', 1)]);
      await store.append('order-14', [placed('o-14', 1)]);
      await store.append('payment-12', [paid('o-12')]);
      await store.append('shipment-13', [shipped('o-13')]);
      await waitUntil(caughtUp, 'the process manager caught up');
      await expect(open('o-12')).resolves.toEqual([]);
      await expect(open('o-13')).resolves.toEqual([]);
      await expect(scheduled()).resolves.toEqual([
        'process:order-fulfilment:o-14:payment',
      ]);

      clock.advanceTimeBy('1h');
      // o-14's deadline, set before the others were cancelled, shows the scheduler ran.
      await waitUntil(
        async () => (await scheduled()).length === 0,
        'the remaining deadline delivered',
      );
      await waitUntil(
        () => deadlines.timedOut.length === 1,
        "o-14's deadline handled",
      );
      expect(deadlines.timedOut).toEqual(['o-14']);
      await expect(instance('o-12')).resolves.toMatchObject({
        state: { paid: true, seen: ['placed', 'paid:o-12'] },
      });
    });

    it('does nothing when a deadline arrives after its instance ended', async () => {
      await store.append('order-15', [placed('o-15', 1)]);
      await waitUntil(caughtUp, 'the order started');
      // The end committed while the delivery was already under way: its
      // schedule row is still there when it runs.
      await client.query(
        `UPDATE "${schema}".process_instances SET status = 'ended'
         WHERE name = 'order-fulfilment' AND key = 'o-15'`,
      );
      clock.advanceTimeBy('1h');
      await waitUntil(
        async () => (await scheduled()).length === 0,
        'the deadline delivered',
      );
      expect(deadlines.timedOut).toEqual([]);
      await expect(steps('o-15')).resolves.toEqual(['pm.OrderPlaced']);
    });
  });
}
