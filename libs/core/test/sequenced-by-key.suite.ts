import type { INestApplicationContext } from '@nestjs/common';
import {
  Consumer,
  ConsumerSegmentsChangedError,
  DeadLetters,
  EventStore,
  HandleEvent,
  TrackingService,
  type ConsumerContext,
  type PostgresEventStore,
  type SqlClient,
  type StoredEvent,
} from '../src/index.js';
import { segmentOfKey } from '../src/tracking/sequence-key.js';
import { consumersOverview } from '../src/tracking/consumers-overview.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  Deposited,
  deposited,
  trackingApp,
  waitFor,
} from './tracking.fixture.js';

/** One handling: which account, which amount, in which segment, which event. */
interface Handling {
  readonly account: string;
  readonly amount: number;
  readonly segment: number;
  readonly id: string;
}

export const byKey = {
  handled: [] as Handling[],
  /** Amounts the parking consumer refuses. */
  refused: new Set<number>(),
};

function record(
  event: Deposited,
  envelope: StoredEvent<Deposited>,
  context: ConsumerContext,
): void {
  if (byKey.refused.has(event.amount))
    throw new Error(`refused amount ${event.amount}`);
  byKey.handled.push({
    account: event.account,
    amount: event.amount,
    segment: context.segment,
    id: envelope.id,
  });
}

// An account's deposits are spread over several ledger streams: only the
// account keeps them in order.
const byAccount = (event: object) => (event as Deposited).account || undefined;

@Consumer('by-account', { segments: 3, batchSize: 7, sequenceBy: byAccount })
export class ByAccount {
  @HandleEvent(Deposited)
  on(e: Deposited, env: StoredEvent<Deposited>, ctx: ConsumerContext): void {
    record(e, env, ctx);
  }
}

/** The same consumer's first deployment: one segment, split by stream. */
@Consumer('redrawn', { segments: 1 })
export class RedrawnV1 {
  @HandleEvent(Deposited)
  on(e: Deposited, env: StoredEvent<Deposited>, ctx: ConsumerContext): void {
    record(e, env, ctx);
  }
}

/** Its next deployment: three segments by account, replaying from the oldest checkpoint. */
@Consumer('redrawn', {
  segments: 3,
  sequenceBy: byAccount,
  onSegmentsChanged: 'replay-from-oldest',
})
export class RedrawnV2 {
  @HandleEvent(Deposited)
  on(e: Deposited, env: StoredEvent<Deposited>, ctx: ConsumerContext): void {
    record(e, env, ctx);
  }
}

/** A deployment that changes the split without allowing a replay. */
@Consumer('redrawn', { segments: 2 })
export class RedrawnRefusing {
  @HandleEvent(Deposited)
  on(): void {}
}

@Consumer('parking-by-account', {
  segments: 2,
  sequenceBy: byAccount,
  onError: 'park',
  maxAttempts: 2,
  retryDelayMs: 5,
})
export class ParkingByAccount {
  @HandleEvent(Deposited)
  on(e: Deposited, env: StoredEvent<Deposited>, ctx: ConsumerContext): void {
    record(e, env, ctx);
  }
}

/** Consumers sequenced by a key of their own (`sequenceBy`), on each database. */
export function sequencedByKeySuite(database: () => TestDatabase): void {
  let schema: string;
  let client: SqlClient;
  const apps: INestApplicationContext[] = [];

  async function start(providers: Parameters<typeof trackingApp>[2]) {
    const app = await trackingApp(client, schema, providers);
    apps.push(app);
    return {
      store: app.get(EventStore) as PostgresEventStore,
      tracking: app.get(TrackingService),
      deadLetters: app.get(DeadLetters),
    };
  }

  /** The amounts of `account` in the order they were handled. */
  const amountsOf = (account: string) =>
    byKey.handled.filter((h) => h.account === account).map((h) => h.amount);

  beforeEach(() => {
    schema = freshSchema('seq');
    client = database().client();
    byKey.handled = [];
    byKey.refused = new Set();
  });

  afterEach(async () => {
    while (apps.length > 0) await apps.pop()?.close();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it("keeps each key's events in log order in the key's segment across streams, each once, over two instances", async () => {
    const a = await start([ByAccount]);
    const b = await start([ByAccount]);
    const accounts = [
      'acct-1',
      'acct-2',
      'acct-3',
      'acct-4',
      'acct-5',
      'acct-6',
    ];
    const expected = new Map<string, number[]>(accounts.map((k) => [k, []]));
    // 120 deposits over 4 ledgers: each ledger stream mixes accounts, and
    // each account's deposits land in every ledger.
    for (let i = 0; i < 120; i++) {
      const account = accounts[i % accounts.length];
      const ledger = `ledger-${Math.floor(i / 3) % 4}`;
      await a.store.append(ledger, [deposited(account, i)]);
      expected.get(account)!.push(i);
    }
    await waitFor(() => byKey.handled.length >= 120, '120 deposits handled');
    await waitFor(async () => {
      const [health] = await a.tracking.health('by-account');
      return health.segments.every((s) => s.behind === 0);
    }, 'every segment caught up');
    expect(new Set(byKey.handled.map((h) => h.id)).size).toBe(120);
    expect(byKey.handled).toHaveLength(120);
    for (const account of accounts) {
      expect(amountsOf(account)).toEqual(expected.get(account));
      const segments = new Set(
        byKey.handled
          .filter((h) => h.account === account)
          .map((h) => h.segment),
      );
      expect([...segments]).toEqual([segmentOfKey(account, 3)]);
    }
    // Both instances hold segments, and the accounts used more than one.
    const owners = (await a.tracking.health('by-account'))[0].segments.map(
      (s) => s.owner,
    );
    expect(new Set(owners)).toEqual(
      new Set([a.tracking.instanceId, b.tracking.instanceId]),
    );
    expect(new Set(byKey.handled.map((h) => h.segment)).size).toBeGreaterThan(
      1,
    );
    const [overview] = (await consumersOverview(client, a.store.schema)).filter(
      (c) => c.consumer === 'by-account',
    );
    expect(overview.segments.map((s) => s.lagEvents)).toEqual([0, 0, 0]);
    // With no instance running, every segment has every new event to read.
    while (apps.length > 0) await apps.pop()?.close();
    for (let i = 0; i < 4; i++)
      await a.store.append(`ledger-${i}`, [deposited(accounts[i], 200 + i)]);
    const [waiting] = (await consumersOverview(client, a.store.schema)).filter(
      (c) => c.consumer === 'by-account',
    );
    expect(waiting.segments.map((s) => s.lagEvents)).toEqual([4, 4, 4]);
  });

  it('an event without a key goes to segment 0, where its handler sees it', async () => {
    const { store } = await start([ByAccount]);
    await store.append('ledger-x', [deposited('', 7)]);
    await waitFor(() => byKey.handled.length === 1, 'the keyless deposit');
    expect(byKey.handled[0]).toMatchObject({ amount: 7, segment: 0 });
  });

  it('a new split replays from the oldest checkpoint when the consumer allows it, and nothing is passed over', async () => {
    const first = await start([RedrawnV1]);
    await first.store.append('ledger-1', [
      deposited('acct-1', 1),
      deposited('acct-2', 2),
    ]);
    await waitFor(() => byKey.handled.length === 2, 'the first deployment');
    await apps.pop()?.close();
    // Written while no instance runs: the new split must not pass them over.
    await first.store.append('ledger-1', [deposited('acct-1', 3)]);
    await first.store.append('ledger-2', [deposited('acct-2', 4)]);

    byKey.handled = [];
    const second = await start([RedrawnV2]);
    await waitFor(
      () => amountsOf('acct-1').includes(3) && amountsOf('acct-2').includes(4),
      'the events written in between',
    );
    const rows = await client.query<{ n: number; by: string }>(
      `SELECT count(*)::int AS n, min(sequenced_by) AS by FROM "${schema}".consumer_positions WHERE consumer = 'redrawn'`,
    );
    expect(rows[0]).toEqual({ n: 3, by: 'key' });
    await second.store.append('ledger-3', [deposited('acct-1', 5)]);
    await waitFor(() => amountsOf('acct-1').includes(5), 'a later deposit');
    expect(amountsOf('acct-1').filter((n) => n === 5)).toHaveLength(1);
  });

  it('refuses a new split the consumer does not allow to replay, or while an instance runs the old one', async () => {
    await start([RedrawnV1]);
    await expect(
      trackingApp(client, schema, [RedrawnRefusing]),
    ).rejects.toThrow(ConsumerSegmentsChangedError);
    const running = await trackingApp(client, schema, [RedrawnV2]).catch(
      (e: unknown) => e,
    );
    expect(running).toBeInstanceOf(ConsumerSegmentsChangedError);
    expect(running).toMatchObject({
      reason: 'running',
      stored: { count: 1, sequencedBy: 'stream' },
      declared: { count: 3, sequencedBy: 'key' },
    });
    expect((running as Error).message).toContain(
      'Another instance still runs it with the old split',
    );
  });

  it("parks a failing event in its key's segment and retries it there", async () => {
    byKey.refused.add(-1);
    const { store, deadLetters } = await start([ParkingByAccount]);
    await store.append('ledger-1', [deposited('acct-1', -1)]);
    await store.append('ledger-1', [deposited('acct-1', 2)]);
    await store.append('ledger-2', [deposited('acct-2', 3)]);
    await waitFor(() => amountsOf('acct-2').includes(3), 'the other account');
    await waitFor(async () => {
      const rows = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".parked_events WHERE consumer = 'parking-by-account'`,
      );
      return rows[0].n === 2;
    }, 'the failing deposit and the one behind it parked');
    const [parked] = await client.query<{ segment: number }>(
      `SELECT segment FROM "${schema}".parked_streams WHERE consumer = 'parking-by-account'`,
    );
    expect(parked.segment).toBe(segmentOfKey('acct-1', 2));
    byKey.refused.clear();
    await deadLetters.retry('parking-by-account', { stream: 'ledger-1' });
    await waitFor(
      () => amountsOf('acct-1').length === 2,
      'the retried deposits',
    );
    expect(amountsOf('acct-1')).toEqual([-1, 2]);
  });
}
