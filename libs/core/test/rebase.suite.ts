import type { INestApplicationContext } from '@nestjs/common';
import {
  Consumer,
  HandleEvent,
  LOG_START,
  RebaseRefusedError,
  TransactionIdsAheadError,
  type PostgresEventStore,
  type StoredEvent,
} from '../src/index.js';
import { advanceCounter } from '../src/store/postgres/rebase-transaction-ids.js';
import { transactionCounter } from '../src/store/postgres/transaction-ids.js';
import type { TestDatabase } from './databases.js';
import {
  Deposited,
  deposited,
  trackingApp,
  waitFor,
} from './tracking.fixture.js';

const seen: string[] = [];

/** One segment: it sees the whole log in its order. */
@Consumer('rebased-reader', { batchSize: 4 })
class RebasedReader {
  @HandleEvent(Deposited)
  onDeposited(_: Deposited, envelope: StoredEvent<Deposited>): void {
    seen.push(envelope.id);
  }
}

/** Every event of the log in its order, once `count` are visible. */
async function logOrder(
  store: PostgresEventStore,
  count: number,
): Promise<StoredEvent[]> {
  let events: readonly StoredEvent[] = [];
  await waitFor(async () => {
    events = (await store.readAll({ after: LOG_START, limit: 1000 })).events;
    return events.length >= count;
  }, `${count} events to be visible`);
  return [...events];
}

/** A store moved to a cluster whose transaction counter is behind its ids. */
export function rebaseSuite(database: () => TestDatabase): void {
  let store: PostgresEventStore;
  let app: INestApplicationContext | undefined;

  beforeEach(async () => {
    store = await database().freshStore();
    seen.length = 0;
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const shift = (table: string) =>
    store.client.exec(
      `UPDATE ${store.schema.table(table)}
       SET transaction_id = (transaction_id::text::bigint + 1000000000000)::text::xid8`,
    );

  it('refuses to start while stored ids are ahead; after the re-base a consumer goes on where it was, in order', async () => {
    for (let i = 0; i < 12; i++) {
      await store.append(`acct-${i % 3}`, [deposited(`acct-${i % 3}`, i)]);
    }
    await store.appendToStreams([
      {
        streamId: 'acct-0',
        events: [deposited('acct-0', 1)],
        expectedVersion: 'any',
      },
      {
        streamId: 'acct-9',
        events: [deposited('acct-9', 1)],
        expectedVersion: 'any',
      },
    ]);
    const before = await logOrder(store, 14);
    // The consumer had read 5 events on the old cluster.
    await store.client.query(
      `INSERT INTO ${store.schema.table('consumer_positions')}
         (consumer, segment, segment_count, transaction_id, position)
       VALUES ('rebased-reader', 0, 1, $1::text::xid8, $2::bigint)`,
      [before[4].transactionId.toString(), before[4].position.toString()],
    );
    await shift('events');
    await shift('consumer_positions');

    expect((await store.readAll()).events).toEqual([]);
    const refused = await store.migrate().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransactionIdsAheadError);
    expect(refused).toMatchObject({ code: 'TRANSACTION_IDS_AHEAD' });
    expect((refused as Error).message).toMatch(/npx chronicle rebase/);
    await expect(
      trackingApp(store.client, store.schema.name, [RebasedReader]),
    ).rejects.toBeInstanceOf(TransactionIdsAheadError);

    const report = await store.rebaseTransactionIds();
    expect(report).toMatchObject({ rebased: true, transactions: 13 });
    await expect(store.migrate()).resolves.toEqual([]);

    app = await trackingApp(store.client, store.schema.name, [RebasedReader]);
    const late = deposited('acct-1', 100);
    await store.append('acct-1', [late]);
    const expected = [...before.slice(5).map((e) => e.id), late.id];
    await waitFor(
      () => seen.length >= expected.length,
      'the consumer to read the rest of the log',
    );
    expect(seen).toEqual(expected);
    const after = await logOrder(store, 15);
    expect(after.map((e) => e.id)).toEqual([
      ...before.map((e) => e.id),
      late.id,
    ]);
  });

  it('does nothing when the ids are not ahead', async () => {
    await store.append('a', [deposited('a', 1)]);
    const [event] = await logOrder(store, 1);
    await expect(store.rebaseTransactionIds()).resolves.toMatchObject({
      rebased: false,
    });
    const [still] = await logOrder(store, 1);
    expect(still.transactionId).toBe(event.transactionId);
  });

  it('refuses to re-base a schema with transaction-id columns it does not know, and changes nothing', async () => {
    await store.append('a', [deposited('a', 1)]);
    await shift('events');
    await store.client.exec(
      `CREATE TABLE ${store.schema.table('mine')} (seen xid8)`,
    );
    await expect(store.rebaseTransactionIds()).rejects.toBeInstanceOf(
      RebaseRefusedError,
    );
    await expect(store.migrate()).rejects.toBeInstanceOf(
      TransactionIdsAheadError,
    );
  });

  it('advances the counter when the log holds more transactions than it handed out', async () => {
    const before = await transactionCounter(store.client);
    await advanceCounter(store.client, 25);
    expect(await transactionCounter(store.client)).toBeGreaterThanOrEqual(
      before + 25n,
    );
  });
}
