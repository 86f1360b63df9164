import type { INestApplicationContext, Provider } from '@nestjs/common';
import {
  ChronicleHealthIndicator,
  EventStore,
  InvalidResetTargetError,
  LOG_START,
  PostgresEventStore,
  TrackingService,
  requestReplay,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  CreditingConsumer,
  IsolatedCreditingConsumer,
  LenientCreditingConsumer,
  PaymentsRecorder,
  StrictCreditingConsumer,
  RareConsumer,
  ReadingConsumer,
  edges,
  edgesApp,
  newEvent,
  paid,
  rare,
} from './consumer-edges.fixture.js';
import { waitUntil } from './wait-until.js';

/** A transaction held open on another connection, as another process would hold it. */
interface HeldTransaction {
  readonly transactionId: bigint;
  readonly pid: number;
  /** Commits it, and waits for the commit. */
  release(): Promise<void>;
}

async function holdTransaction(
  other: SqlClient,
  schema: string,
  work: (store: PostgresEventStore) => Promise<unknown>,
): Promise<HeldTransaction> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  return new Promise<HeldTransaction>((ready, fail) => {
    const done = other.transaction(async (tx) => {
      await work(new PostgresEventStore(tx, schema));
      const [row] = await tx.query<{ xid: string; pid: number }>(
        'SELECT pg_current_xact_id()::text AS xid, pg_backend_pid() AS pid',
      );
      ready({
        transactionId: BigInt(row.xid),
        pid: Number(row.pid),
        release: async () => {
          release();
          await done;
        },
      });
      await released;
    });
    done.catch(fail);
  });
}

/** Where re-runs, resets, rare types, held-back logs and the single embedded session meet. */
export function consumerEdgesSuite(database: () => TestDatabase): void {
  let schema: string;
  let client: SqlClient;
  const apps: INestApplicationContext[] = [];
  const held: HeldTransaction[] = [];

  async function start(providers: Provider[]) {
    const app = await edgesApp(client, schema, providers);
    apps.push(app);
    const store = app.get(EventStore) as PostgresEventStore;
    await client.query(`CREATE TABLE ${edges.table} (n int NOT NULL)`);
    return {
      app,
      store,
      tracking: app.get(TrackingService),
      indicator: app.get(ChronicleHealthIndicator),
    };
  }

  const storedCheckpoint = async (consumer: string) => {
    const [row] = await client.query<{ position: string }>(
      `SELECT position::text AS position FROM "${schema}".consumer_positions WHERE consumer = $1::text`,
      [consumer],
    );
    return BigInt(row.position);
  };

  const rows = () =>
    client.query<{ n: number }>(
      `SELECT n FROM ${edges.table} ORDER BY n, ctid`,
    );

  const credited = (store: PostgresEventStore) =>
    client.query<{ n: string; count: number }>(
      `SELECT payload->>'n' AS n, count(*)::int AS count FROM ${store.schema.events}
       WHERE type = 'edges.Credited' GROUP BY 1 ORDER BY 1`,
    );

  const eventPositions = async (store: PostgresEventStore, type: string) =>
    (
      await client.query<{ position: string }>(
        `SELECT position::text AS position FROM ${store.schema.events} WHERE type = $1::text ORDER BY position`,
        [type],
      )
    ).map((r) => BigInt(r.position));

  const deadLetters = () =>
    client.query<{ event_position: string; attempts: number; error: string }>(
      `SELECT event_position::text AS event_position, attempts, error FROM "${schema}".dead_letters ORDER BY event_position`,
    );

  beforeEach(() => {
    schema = freshSchema('edg');
    client = database().client();
    edges.reset(`"${schema}".projection`);
    RareConsumer.seen = [];
    PaymentsRecorder.seen = [];
  });

  afterEach(async () => {
    while (held.length > 0) await held.pop()?.release();
    while (apps.length > 0) await apps.pop()?.close();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('with a savepoint per event, a transient failure late in a batch undoes only its own event: each command takes effect once, earlier events are not run again', async () => {
    const { store } = await start([IsolatedCreditingConsumer]);
    edges.failOnceAt = 3;
    await store.append('payments-1', [
      paid('w1', 1),
      paid('w1', 2),
      paid('w1', 3),
      paid('w1', 4),
    ]);
    await waitUntil(async () => (await rows()).length >= 4, 'four payments');
    expect(await credited(store)).toEqual([
      { n: '1', count: 1 },
      { n: '2', count: 1 },
      { n: '3', count: 1 },
      { n: '4', count: 1 },
    ]);
    expect((await rows()).map((r) => r.n)).toEqual([1, 2, 3, 4]);
    // The savepoint kept events 1 and 2: only the failing event ran again.
    expect(Object.fromEntries(edges.runs)).toEqual({ 1: 1, 2: 1, 3: 2, 4: 1 });
  });

  it('a transient failure in the middle of a batch run without savepoints: the batch runs again in savepoints, every write and command takes effect once', async () => {
    const { store } = await start([CreditingConsumer]);
    edges.failOnceAt = 3;
    await store.append(
      'payments-1',
      [1, 2, 3, 4, 5].map((n) => paid('w1', n)),
    );
    await waitUntil(async () => (await rows()).length >= 5, 'five payments');
    const positions = await eventPositions(store, 'edges.Paid');
    await waitUntil(
      async () => (await storedCheckpoint('crediting')) >= positions[4],
      'the checkpoint',
    );
    expect((await rows()).map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
    expect(await credited(store)).toEqual(
      [1, 2, 3, 4, 5].map((n) => ({ n: String(n), count: 1 })),
    );
    // The first run was undone at payment 3: 1 and 2 ran again (their writes
    // commit once), 3 was retried, 4 and 5 ran once.
    expect(Object.fromEntries(edges.runs)).toEqual({
      1: 2,
      2: 2,
      3: 2,
      4: 1,
      5: 1,
    });
  });

  it('a poison event in the middle of a batch run without savepoints goes to dead_letters; the events around it are written once', async () => {
    const { store } = await start([LenientCreditingConsumer]);
    edges.poisonAt = 3;
    await store.append(
      'payments-1',
      [1, 2, 3, 4, 5].map((n) => paid('w1', n)),
    );
    const positions = await eventPositions(store, 'edges.Paid');
    await waitUntil(
      async () => (await storedCheckpoint('crediting-lenient')) >= positions[4],
      'the whole batch',
    );
    expect((await rows()).map((r) => r.n)).toEqual([1, 2, 4, 5]);
    expect(await deadLetters()).toEqual([
      {
        event_position: positions[2].toString(),
        attempts: 1,
        error: 'poison payment 3',
      },
    ]);
    expect(Object.fromEntries(edges.runs)).toEqual({
      1: 2,
      2: 2,
      3: 1,
      4: 1,
      5: 1,
    });
    const counts = await credited(store);
    for (const n of ['1', '2', '4', '5'])
      expect(counts.find((c) => c.n === n)?.count).toBe(1);
  });

  it('a poison event in the middle of a batch run without savepoints stops the segment after the events before it, written once', async () => {
    const { store, tracking } = await start([StrictCreditingConsumer]);
    edges.poisonAt = 3;
    await store.append(
      'payments-1',
      [1, 2, 3, 4, 5].map((n) => paid('w1', n)),
    );
    await waitUntil(async () => {
      const [health] = await tracking.health('crediting-strict');
      return health.segments[0].status === 'stopped';
    }, 'the segment to stop');
    const positions = await eventPositions(store, 'edges.Paid');
    expect(await storedCheckpoint('crediting-strict')).toBe(positions[1]);
    expect((await rows()).map((r) => r.n)).toEqual([1, 2]);
    expect(Object.fromEntries(edges.runs)).toEqual({ 1: 2, 2: 2, 3: 2 });
  });

  it('a handler that swallows a failed statement is the one blamed, not the next event that meets the aborted transaction', async () => {
    const { store } = await start([LenientCreditingConsumer]);
    edges.swallowAt = 3;
    await store.append(
      'payments-1',
      [1, 2, 3, 4, 5].map((n) => paid('w1', n)),
    );
    const positions = await eventPositions(store, 'edges.Paid');
    await waitUntil(
      async () => (await storedCheckpoint('crediting-lenient')) >= positions[4],
      'the whole batch',
    );
    expect((await rows()).map((r) => r.n)).toEqual([1, 2, 4, 5]);
    const letters = await deadLetters();
    expect(letters.map((l) => l.event_position)).toEqual([
      positions[2].toString(),
    ]);
  });

  it('a handler that wrote through its transaction can then load an aggregate, read a stream and run a query; the app closes', async () => {
    const { app, store } = await start([ReadingConsumer]);
    await store.append('edges.Wallet-w2', [
      newEvent('edges.Credited', { n: 7 }),
    ]);
    await store.append('payments-2', [paid('w2', 1), paid('w2', 2)]);
    await waitUntil(() => edges.reads.size === 2, 'both payments read');
    expect(edges.reads.get(1)).toEqual({
      loaded: [7],
      streamLength: 1,
      queried: [7],
    });
    await app.close();
    apps.pop();
  });

  it('a consumer of a rare type moves its checkpoint past the events it does not handle', async () => {
    const { store } = await start([RareConsumer]);
    let last = 0n;
    for (let i = 0; i < 20; i++) {
      const result = await store.append(`other-${i}`, [
        paid('w3', i),
        paid('w3', i + 100),
      ]);
      last = result.positions[1];
    }
    await waitUntil(
      async () => (await storedCheckpoint('rare')) >= last,
      'the checkpoint to pass the other events',
    );
    expect(RareConsumer.seen).toEqual([]);
    await store.append('rare-1', [rare(1)]);
    await waitUntil(() => RareConsumer.seen.length === 1, 'the rare event');
  });

  it('readAll returns the checkpoint it scanned up to, matching events or not', async () => {
    const store = await database().freshStore();
    const appended = await store.append('other', [
      paid('w4', 1),
      paid('w4', 2),
    ]);
    // The log holds back while any writing transaction on the server is open
    // (other suites may hold one): wait until both events are readable.
    await waitUntil(
      async () => (await store.readAll()).events.length === 2,
      'both events readable',
    );
    const batch = await store.readAll({ types: ['edges.Rare'], limit: 10 });
    expect(batch.events).toEqual([]);
    expect(batch.checkpoint).toEqual({
      transactionId: appended.transactionId,
      position: appended.positions[1],
    });
    // A full batch stops at its last event: what lies beyond was not scanned.
    const full = await store.readAll({ after: LOG_START, limit: 1 });
    expect(full.checkpoint.position).toBe(appended.positions[0]);
    // Type names travel as an array literal: quotes, commas and backslashes survive.
    const odd = 'edges.Odd"{type},\\x';
    await store.append('odd', [newEvent(odd, {})]);
    await waitUntil(
      async () => (await store.readAll()).events.length === 3,
      'the third event readable',
    );
    const read = await store.readAll({ types: [odd, 'edges.Rare'] });
    expect(read.events.map((e) => e.type)).toEqual([odd]);
    await client.query(`DROP SCHEMA IF EXISTS "${store.schema.name}" CASCADE`);
  });

  it('a reset or replay to a position where no event is stored is refused, naming the fix', async () => {
    const { store, tracking } = await start([PaymentsRecorder]);
    await store.append('p', [paid('w8', 1)]);
    await expect(tracking.reset('payments', { to: 999_999n })).rejects.toThrow(
      InvalidResetTargetError,
    );
    await expect(
      requestReplay(store, 'payments', { to: 999_999n }),
    ).rejects.toThrow(
      /No event is stored at position 999999: pick the position of an event/,
    );
  });

  it('a replay requested by an older CLI (a resolved checkpoint) is still applied', async () => {
    const { store } = await start([PaymentsRecorder]);
    const second = paid('w9', 2);
    const appended = await store.append('p', [paid('w9', 1), second]);
    await waitUntil(() => PaymentsRecorder.seen.length === 2, 'both');
    await client.query(
      `INSERT INTO "${schema}".consumer_resets (consumer, transaction_id, position)
       VALUES ('payments', $1::text::xid8, $2::bigint)`,
      [appended.transactionId.toString(), appended.positions[0].toString()],
    );
    // It continues after the first event (or earlier, if the horizon is held back).
    await waitUntil(
      () => PaymentsRecorder.seen.filter((id) => id === second.id).length === 2,
      'the replay of the second event',
    );
  });

  if (database().concurrentTransactions) {
    it('a replay requested from a date never skips an event whose transaction was still open', async () => {
      const { store } = await start([PaymentsRecorder]);
      await store.append('before', [paid('w5', 0)]);
      await waitUntil(() => PaymentsRecorder.seen.length === 1, 'the first');
      const from = new Date();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const late = paid('w5', 1);
      const open = await holdTransaction(
        database().otherClient(),
        schema,
        (other) => other.append('late', [late]),
      );
      held.push(open);
      const after = paid('w5', 2);
      await store.append('after', [after]);
      await requestReplay(store, 'payments', { to: from });
      await waitUntil(
        async () =>
          (
            await client.query(
              `SELECT 1 FROM "${schema}".consumer_resets WHERE consumer = 'payments'`,
            )
          ).length === 0,
        'the replay to be applied',
      );
      held.splice(held.indexOf(open), 1);
      await open.release();
      await waitUntil(
        () => PaymentsRecorder.seen.includes(after.id),
        'the event after the date',
      );
      expect(PaymentsRecorder.seen).toContain(late.id);
    });

    it('a reset from a date never skips an event whose transaction was still open', async () => {
      const { store, tracking } = await start([PaymentsRecorder]);
      const from = new Date();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const late = paid('w6', 1);
      const open = await holdTransaction(
        database().otherClient(),
        schema,
        (other) => other.append('late', [late]),
      );
      held.push(open);
      const after = paid('w6', 2);
      await store.append('after', [after]);
      await tracking.reset('payments', { to: from });
      held.splice(held.indexOf(open), 1);
      await open.release();
      await waitUntil(
        () => PaymentsRecorder.seen.includes(after.id),
        'the event after the date',
      );
      expect(PaymentsRecorder.seen).toContain(late.id);
    });

    it('events held back by an open transaction show as lag, with the transaction that holds them', async () => {
      const { store, tracking, indicator } = await start([PaymentsRecorder]);
      const open = await holdTransaction(
        database().otherClient(),
        schema,
        (other) => other.append('late', [paid('w7', 1)]),
      );
      held.push(open);
      await store.append('after', [paid('w7', 2)]);
      const [health] = await tracking.health('payments');
      expect(health.segments[0].behind).toBe(1);
      expect(health.heldBack).not.toBeNull();
      const holder = health.heldBack?.transactions.find(
        (t) => t.pid === open.pid,
      );
      expect(holder?.transactionId).toBe(open.transactionId);
      expect(holder?.since).toBeInstanceOf(Date);
      expect(health.heldBack?.since.getTime()).toBeLessThanOrEqual(Date.now());
      expect(health.heldBack?.eventsWaiting).toBeGreaterThanOrEqual(1);
      const checked = (await indicator.checkConsumers()).consumers;
      expect(checked.lag).toEqual({ payments: 1 });
      expect(checked.heldBack).toMatchObject({
        transactionIds: expect.arrayContaining([open.transactionId.toString()]),
      });
    });
  }
}
