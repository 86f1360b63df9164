import {
  AppendNotFirstWriteError,
  ConcurrencyError,
  type ExpectedVersion,
  type PostgresEventStore,
  type StoredEvent,
} from '../src/index.js';
import type { TestDatabase } from './databases.js';
import { event } from './event-store.suite.js';

async function versionsOf(
  store: PostgresEventStore,
  streamId: string,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

const contiguous = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/**
 * What an append must hold at the edges: lost races on "exists" and "any"
 * retried (also inside a transaction), and the events insert being the
 * transaction's first write.
 */
export function appendEdgesSuite(database: () => TestDatabase): void {
  let store: PostgresEventStore;

  beforeEach(async () => {
    store = await database().freshStore();
  });

  describe('lost races on "exists" and "any" are retried', () => {
    const writers = 50;

    async function race(
      expectedVersion: ExpectedVersion,
      inTransaction: boolean,
    ): Promise<void> {
      await store.append('hot', [event()]);
      const results = await Promise.allSettled(
        Array.from({ length: writers }, (_, writer) => {
          const e = [event('t.Written', { writer })];
          return inTransaction
            ? store.transaction((bound) =>
                bound.append('hot', e, { expectedVersion }),
              )
            : store.append('hot', e, { expectedVersion });
        }),
      );
      const failures = results.flatMap((r) =>
        r.status === 'rejected' ? [String(r.reason)] : [],
      );
      expect(failures).toEqual([]);
      const stored = await versionsOf(store, 'hot');
      expect(stored.map((e) => e.streamVersion)).toEqual(
        contiguous(writers + 1),
      );
      // In the log's order too: a later version never sorts before an earlier one.
      const logOrder = [...stored].sort((a, b) =>
        a.transactionId === b.transactionId
          ? Number(a.position - b.position)
          : Number(a.transactionId - b.transactionId),
      );
      expect(logOrder.map((e) => e.streamVersion)).toEqual(
        contiguous(writers + 1),
      );
    }

    it('"exists": 50 concurrent appends all succeed, versions contiguous', () =>
      race('exists', false));

    it('"exists" inside transaction(): all succeed', () =>
      race('exists', true));

    it('"any" inside transaction(): all succeed', () => race('any', true));

    it('"any" outside a transaction: all succeed', () => race('any', false));

    it('"exists" on a stream that has no events says so, without contradiction', async () => {
      const error = await store
        .append('empty', [event()], { expectedVersion: 'exists' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect((error as Error).message).toMatch(/has no events/);
    });
  });

  describe('the events insert is the transaction’s first write', () => {
    beforeEach(async () => {
      await store.client.exec(
        `CREATE TABLE ${store.schema.table('side')} (note text)`,
      );
    });
    const side = () => store.schema.table('side');

    it('refuses an append after another write in the same transaction, and writes nothing', async () => {
      const error = await store
        .transaction(async (bound, tx) => {
          await tx.query(`INSERT INTO ${side()} (note) VALUES ('first')`);
          await bound.append('s', [event()]);
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppendNotFirstWriteError);
      expect(error).toMatchObject({ code: 'APPEND_NOT_FIRST_WRITE' });
      expect((error as Error).message).toMatch(/stream "s"/);
      expect((error as Error).message).toMatch(/append first/i);
      expect(await store.streamVersion('s')).toBe(0);
      const rows = await store.client.query(`SELECT * FROM ${side()}`);
      expect(rows).toEqual([]);
    });

    it('accepts an append first, then own writes, then another append', async () => {
      await store.transaction(async (bound, tx) => {
        await bound.append('a', [event()]);
        await tx.query(`INSERT INTO ${side()} (note) VALUES ('then')`);
        await bound.append('b', [event()]);
        await bound.append('a', [event()]);
      });
      expect(await store.streamVersion('a')).toBe(2);
      expect(await store.streamVersion('b')).toBe(1);
    });

    it('an append refused for its expectation wrote nothing: a later one after another write is still refused', async () => {
      const error = await store
        .transaction(async (bound, tx) => {
          await expect(
            bound.append('s', [event()], { expectedVersion: 3 }),
          ).rejects.toBeInstanceOf(ConcurrencyError);
          await tx.query(`INSERT INTO ${side()} (note) VALUES ('first')`);
          await bound.append('s', [event()]);
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppendNotFirstWriteError);
    });

    it('refuses a record-only append after another write too', async () => {
      await expect(
        store.transaction(async (bound, tx) => {
          await tx.query(`INSERT INTO ${side()} (note) VALUES ('first')`);
          await bound.appendToStreams([], {
            handledCommand: { id: 'c-1', type: 't.Do', result: null },
          });
        }),
      ).rejects.toBeInstanceOf(AppendNotFirstWriteError);
    });
  });
}
