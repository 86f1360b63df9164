import type { INestApplicationContext } from '@nestjs/common';
import {
  Aggregate,
  AggregateRoot,
  Apply,
  EventStore,
  TrackingService,
  type PostgresEventStore,
  type SqlClient,
  ChronicleHealthIndicator,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  BalancesProjection,
  Deposited,
  LenientConsumer,
  Latecomer,
  Recorder,
  StrictConsumer,
  createProjectionTable,
  deposited,
  noted,
  poison,
  projection,
  recorded,
  Seen,
  trackingApp,
  waitFor,
} from './tracking.fixture.js';

@Aggregate({ type: 'tracking.Account' })
class Account extends AggregateRoot {
  balance = 0;
  @Apply(Deposited) private onDeposited(event: Deposited) {
    this.balance += event.amount;
  }
}

/** Durable consumers, on each database. */
export function trackingSuite(database: () => TestDatabase): void {
  let schema: string;
  let client: SqlClient;
  const apps: INestApplicationContext[] = [];

  async function start(providers: Parameters<typeof trackingApp>[2]): Promise<{
    store: PostgresEventStore;
    tracking: TrackingService;
    health: ChronicleHealthIndicator;
  }> {
    const app = await trackingApp(client, schema, providers);
    apps.push(app);
    return {
      store: app.get(EventStore) as PostgresEventStore,
      tracking: app.get(TrackingService),
      health: app.get(ChronicleHealthIndicator),
    };
  }

  async function caughtUp(
    tracking: TrackingService,
    consumer: string,
  ): Promise<boolean> {
    const [health] = await tracking.health(consumer);
    return health.segments.every((s) => s.behind === 0);
  }

  beforeEach(() => {
    schema = freshSchema('trk');
    client = database().client();
    recorded.all = new Seen();
    recorded.now = new Seen();
    poison.handled = [];
    poison.attempts = 0;
  });

  afterEach(async () => {
    while (apps.length > 0) await apps.pop()?.close();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  if (database().concurrentTransactions) {
    it('10,000 events from 8 concurrent writers: each consumed exactly once, in order per stream, over 4 segments', async () => {
      const { store, tracking } = await start([Recorder]);
      const streams = Array.from({ length: 100 }, (_, i) => `acct-${i}`);
      await Promise.all(
        Array.from({ length: 8 }, async (_, writer) => {
          for (let n = 0; n < 250; n++) {
            const stream = streams[(writer * 250 + n) % streams.length];
            await store.append(
              stream,
              Array.from({ length: 5 }, () => deposited(stream, 1)),
            );
          }
        }),
      );
      await waitFor(
        () => recorded.all.ids.length >= 10_000,
        '10,000 events',
        90_000,
      );
      await waitFor(() => caughtUp(tracking, 'recorder'), 'catch-up');
      expect(recorded.all.ids).toHaveLength(10_000);
      expect(new Set(recorded.all.ids).size).toBe(10_000);
      expect(recorded.all.byStream.size).toBe(100);
      for (const versions of recorded.all.byStream.values()) {
        expect(versions).toEqual(versions.map((_, i) => i + 1));
      }
      expect(recorded.all.instances[0]).toBeInstanceOf(Deposited);
      const [health] = await tracking.health('recorder');
      expect(health.segments.map((s) => s.heldHere)).toEqual([
        true,
        true,
        true,
        true,
      ]);
    }, 120_000);
  }

  it('hands the payload as its class, with the envelope, filtered to the types it handles', async () => {
    const { store } = await start([Recorder]);
    await store.append('acct-1', [deposited('acct-1', 5), noted('hi')]);
    await store.append('acct-2', [deposited('acct-2', 7)]);
    await waitFor(() => recorded.all.ids.length === 2, 'two deposits');
    const [first] = recorded.all.instances as Deposited[];
    expect(first).toBeInstanceOf(Deposited);
    expect([...recorded.all.byStream.keys()].sort()).toEqual([
      'acct-1',
      'acct-2',
    ]);
  });

  it('reset and replay rebuild a projection identical to the first run; a reset to a position replays only what follows', async () => {
    projection.table = `"${schema}".balances`;
    const { store, tracking } = await start([BalancesProjection]);
    await createProjectionTable(client, projection.table);
    const positions: bigint[] = [];
    for (let i = 0; i < 100; i++) {
      const account = `acct-${i % 10}`;
      const result = await store.append(account, [deposited(account, i)]);
      positions.push(result.positions[0]);
    }
    const table = () =>
      client.query<{ account: string; total: number; events: number }>(
        `SELECT account, total, events FROM ${projection.table} ORDER BY account`,
      );
    const handled = async () =>
      (await table()).reduce((n, row) => n + Number(row.events), 0);
    await waitFor(async () => (await handled()) === 100, 'the first run');
    const first = await table();
    expect(first).toHaveLength(10);

    await tracking.reset('balances', { to: 'beginning' });
    await waitFor(async () => (await handled()) === 100, 'the replay');
    await waitFor(() => caughtUp(tracking, 'balances'), 'catch-up');
    expect(await table()).toEqual(first);

    // Rewind to the 60th event: the hook clears the table, the last 40 come back.
    await tracking.reset('balances', { to: positions[59] });
    await waitFor(async () => (await handled()) === 40, 'the partial replay');
    await waitFor(() => caughtUp(tracking, 'balances'), 'catch-up');
    expect(await handled()).toBe(40);
  });

  it('under the default policy, a poison event stops its segment after the retries, visibly, and nothing after it is handled', async () => {
    const {
      store,
      tracking,
      health: indicator,
    } = await start([StrictConsumer]);
    await store.append('acct-1', [
      deposited('acct-1', 1),
      deposited('acct-1', -1),
      deposited('acct-1', 2),
    ]);
    await waitFor(async () => {
      const [health] = await tracking.health('strict');
      return health.segments[0].status === 'stopped';
    }, 'the segment to stop');
    const [health] = await tracking.health('strict');
    expect(health.healthy).toBe(false);
    expect(health.segments[0].lastError?.message).toContain(
      'negative amount -1',
    );
    expect(health.segments[0].behind).toBe(2);
    expect(poison.handled).toEqual([1]);
    expect(poison.attempts).toBe(3);
    // Health reports it, with the lag, as degraded: never down, so neither a
    // readiness probe (the app still serves) nor a liveness probe (a restart
    // would stop on the same event again) acts on it.
    expect(await indicator.checkConsumers()).toEqual({
      consumers: {
        status: 'up',
        degraded: true,
        stopped: ['strict'],
        lag: { strict: 2 },
        lagSeconds: { strict: expect.any(Number) },
        deadLetters: { strict: 0 },
        parkedStreams: { strict: 0 },
        parkedEvents: { strict: 0 },
      },
    });
    expect(indicator.checkLiveness().liveness.status).toBe('up');
    const readiness = await indicator.checkReadiness();
    expect(Object.values(readiness).map((r) => r.status)).toEqual([
      'up',
      'up',
      'up',
    ]);
    expect(readiness.consumers).toMatchObject({
      degraded: true,
      stopped: ['strict'],
    });
  });

  it('under the skip policy, a poison event goes to dead_letters with its error and the rest are handled', async () => {
    const { store } = await start([LenientConsumer]);
    const [result] = await store.appendToStreams([
      {
        streamId: 'acct-1',
        expectedVersion: 'any',
        events: [
          deposited('acct-1', 1),
          deposited('acct-1', -1),
          deposited('acct-1', 2),
        ],
      },
    ]);
    await waitFor(() => poison.handled.length === 2, 'both good events');
    expect(poison.handled).toEqual([1, 2]);
    const letters = await client.query<{
      consumer: string;
      event_position: string;
      attempts: number;
      error: string;
    }>(
      `SELECT consumer, event_position::text AS event_position, attempts, error FROM "${schema}".dead_letters`,
    );
    expect(letters).toEqual([
      {
        consumer: 'lenient',
        event_position: result.positions[1].toString(),
        attempts: 3,
        error: 'negative amount -1',
      },
    ]);
  });

  it('a consumer started at "now" ignores history and handles what comes after', async () => {
    const bootstrap = await start([]);
    await bootstrap.store.append('acct-1', [
      deposited('acct-1', 1),
      deposited('acct-1', 2),
    ]);
    // "Now" is the safe horizon: while another suite holds a transaction open on
    // the server, it is still before these two. Start once they are history.
    await waitFor(
      async () => (await bootstrap.store.readAll()).events.length === 2,
      'the history readable',
    );
    const { store } = await start([Latecomer]);
    await store.append('acct-1', [deposited('acct-1', 3)]);
    await store.append('acct-2', [deposited('acct-2', 4)]);
    await waitFor(() => recorded.now.ids.length === 2, 'the new events');
    expect(
      (recorded.now.instances as Deposited[]).map((e) => e.amount),
    ).toEqual([3, 4]);
  });

  it('two instances share the segments; a graceful stop hands them back at once', async () => {
    const a = await start([Recorder]);
    const b = await start([Recorder]);
    const owners = async () =>
      (await a.tracking.health('recorder'))[0].segments.map((s) => s.owner);
    await waitFor(async () => {
      const held = await owners();
      return (
        held.filter((o) => o === a.tracking.instanceId).length === 2 &&
        held.filter((o) => o === b.tracking.instanceId).length === 2
      );
    }, 'two segments each');
    await apps[0].close();
    apps.shift();
    const afterStop = await owners();
    expect(afterStop).not.toContain(a.tracking.instanceId);
    await waitFor(
      async () => (await owners()).every((o) => o === b.tracking.instanceId),
      'the other instance to take all four',
    );
    await b.store.append('acct-9', [deposited('acct-9', 1)]);
    await waitFor(
      () => recorded.all.ids.length === 1,
      'an event after hand-over',
    );
  });

  it('replayAggregate returns an aggregate as it stood at a position or a time', async () => {
    const { store, tracking } = await start([]);
    const stream = 'tracking.Account-a1';
    const first = await store.append(stream, [deposited('a1', 10)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.append(stream, [deposited('a1', 5), deposited('a1', 1)]);
    const atFirst = await tracking.replayAggregate(Account, 'a1', {
      until: first.positions[0],
    });
    expect(atFirst.balance).toBe(10);
    expect(atFirst.version).toBe(1);
    const atTime = await tracking.replayAggregate(Account, 'a1', {
      until: between,
    });
    expect(atTime.balance).toBe(10);
    const now = await tracking.replayAggregate(Account, 'a1', {
      until: new Date(),
    });
    expect(now.balance).toBe(16);
  });
}
