import {
  ConcurrencyError,
  CommandAlreadyHandledError,
  LOG_START,
  LocalAppendSignal,
  MIGRATIONS,
  PostgresEventStore,
  StoreConfigurationError,
  newMessageId,
  type Checkpoint,
  type NewEvent,
  type PayloadCipher,
  type StoredEvent,
} from '../src/index.js';
import { migrate } from '../src/store/postgres/migrations/index.js';
import { StoreSchema } from '../src/store/postgres/store-schema.js';
import { freshSchema, type TestDatabase } from './databases.js';

export function event(
  type = 'test.Happened',
  payload: Record<string, unknown> = {},
): NewEvent {
  const id = newMessageId();
  return {
    id,
    type,
    revision: 1,
    payload,
    metadata: { correlationId: id, user: 'ada' },
    timestamp: new Date(),
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Follows the whole log from the start until `until` says stop, like a consumer would. */
async function follow(
  store: PostgresEventStore,
  until: (seen: StoredEvent[]) => boolean,
  batch = 7,
): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  let checkpoint: Checkpoint = LOG_START;
  for (let round = 0; round < 10_000 && !until(seen); round++) {
    const page = await store.readAll({ after: checkpoint, limit: batch });
    seen.push(...page.events);
    checkpoint = page.checkpoint;
    if (page.events.length === 0) await new Promise((r) => setTimeout(r, 5));
  }
  return seen;
}

/**
 * Waits until the log shows `count` events. The log holds back while any
 * writing transaction on the server is open, and other suites may hold one.
 */
async function visible(
  store: PostgresEventStore,
  count: number,
): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await store.readAll({ limit: count })).events.length >= count) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The event store's contract, run against each database. */
export function eventStoreSuite(database: () => TestDatabase): void {
  let store: PostgresEventStore;

  beforeEach(async () => {
    store = await database().freshStore();
  });

  describe('append and read a stream', () => {
    it('stores every field of the envelope and numbers the stream from 1', async () => {
      const first = event('orders.OrderPlaced', { orderId: 'o-1', total: 42 });
      const second = event('orders.OrderConfirmed', { orderId: 'o-1' });
      const result = await store.append('order-o-1', [first, second], {
        expectedVersion: 'noStream',
      });

      expect(result.nextExpectedVersion).toBe(2);
      expect(result.positions).toHaveLength(2);
      expect(result.positions[0] < result.positions[1]).toBe(true);

      const read = await collect(store.readStream('order-o-1'));
      expect(read.map((e) => e.streamVersion)).toEqual([1, 2]);
      expect(read[0]).toMatchObject({
        id: first.id,
        type: 'orders.OrderPlaced',
        revision: 1,
        payload: { orderId: 'o-1', total: 42 },
        metadata: { correlationId: first.id, user: 'ada' },
        streamId: 'order-o-1',
        position: result.positions[0],
      });
      expect(read[0].timestamp.getTime()).toBe(first.timestamp.getTime());
      expect(typeof read[0].transactionId).toBe('bigint');
    });

    it('reads every time back as extract(epoch) truncates it, before 1970, after 2100, to the microsecond', async () => {
      // 34045233094 and 67519449666: float8 epoch seconds times 1000 fall
      // just below them, so a float read truncated carelessly loses a ms.
      const times = [
        34045233094,
        67519449666,
        0,
        999,
        -1,
        -1001,
        Date.UTC(2099, 11, 31, 23, 59, 59, 999),
        Date.UTC(2100, 0, 1),
        Date.UTC(2150, 5, 1, 12, 0, 0, 1),
        Date.now(),
      ];
      await store.append(
        'times',
        times.map((t) => ({ ...event(), timestamp: new Date(t) })),
      );
      // Microseconds, which SQL (not an envelope) can store.
      const micros = [
        '2026-12-05 10:00:00.123999+00',
        '2099-12-31 23:59:59.999999+00',
        '1969-12-31 23:59:59.999999+00',
        '1971-01-30 01:00:33.094001+00',
      ];
      for (const [i, time] of micros.entries()) {
        await store.client.query(
          `UPDATE ${store.schema.events} SET created_at = $1::timestamptz
           WHERE stream_id = 'times' AND stream_version = $2::bigint`,
          [time, times.length + 1 + i - micros.length],
        );
      }
      const expected = (
        await store.client.query<{ ms: string }>(
          `SELECT trunc(extract(epoch FROM created_at) * 1000)::int8::text AS ms
           FROM ${store.schema.events} WHERE stream_id = 'times' ORDER BY stream_version`,
        )
      ).map((r) => Number(r.ms));
      expect(expected.slice(0, 6)).toEqual(times.slice(0, 6));

      const read = await collect(store.readStream('times'));
      expect(read.map((e) => e.timestamp.getTime())).toEqual(expected);
      await visible(store, times.length);
      const all = await store.readAll({ limit: 100 });
      expect(all.events.map((e) => e.timestamp.getTime())).toEqual(expected);
    });

    it('hands out a batch whole before the next one fails, and reads on correctly after a break', async () => {
      await store.append(
        'long',
        Array.from({ length: 30 }, (_, i) => event('t.E', { i })),
      );
      const versions = (from: number, to: number) =>
        Array.from({ length: to - from + 1 }, (_, i) => from + i);
      let opened = 0;
      const cipher: PayloadCipher = {
        seal: (appends) => ({ appends, wroteInTransaction: false }),
        open: () => {
          opened++;
          return opened === 2
            ? Promise.reject(new Error('second batch refused'))
            : undefined;
        },
      };
      const refusing = new PostgresEventStore(
        store.client,
        store.schema,
        undefined,
        { cipher },
      );
      const seen: number[] = [];
      const error = await (async () => {
        for await (const e of refusing.readStream('long', { batchSize: 8 })) {
          seen.push(e.streamVersion);
        }
      })().catch((e: unknown) => e);
      expect(seen).toEqual(versions(1, 8));
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe('second batch refused');

      // Stop inside the second batch, then read again, whole and by batches.
      const early: number[] = [];
      for await (const e of store.readStream('long', { batchSize: 8 })) {
        early.push(e.streamVersion);
        if (early.length === 14) break;
      }
      expect(early).toEqual(versions(1, 14));
      const [whole, byBatch] = await Promise.all([
        collect(store.readStream('long', { batchSize: 7 })),
        (async () => {
          const read = store.readStream('long', {
            fromVersion: 3,
            batchSize: 8,
          });
          const batches = read as unknown as {
            nextBatch(): Promise<readonly StoredEvent[]>;
          };
          const got: number[] = [];
          for (let b = await batches.nextBatch(); b.length > 0;) {
            got.push(...b.map((e) => e.streamVersion));
            b = await batches.nextBatch();
          }
          return got;
        })(),
      ]);
      expect(whole.map((e) => e.streamVersion)).toEqual(versions(1, 30));
      expect(byBatch).toEqual(versions(3, 30));
    });

    it('reads from a version, up to a version, across batches', async () => {
      await store.append(
        's',
        Array.from({ length: 25 }, (_, i) => event('t.E', { i })),
      );
      const tail = await collect(
        store.readStream('s', { fromVersion: 11, toVersion: 22, batchSize: 4 }),
      );
      expect(tail.map((e) => e.streamVersion)).toEqual([
        11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
      ]);
      expect(await store.streamVersion('s')).toBe(25);
      expect(await store.streamVersion('nothing-here')).toBe(0);
      expect(await collect(store.readStream('nothing-here'))).toEqual([]);
    });
  });

  describe('expected versions', () => {
    it('noStream: accepted for a new stream, refused once it exists', async () => {
      await store.append('s', [event()], { expectedVersion: 'noStream' });
      const error = await store
        .append('s', [event()], { expectedVersion: 'noStream' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({
        streamId: 's',
        expectedVersion: 'noStream',
        actualVersion: 1,
        code: 'CONCURRENCY_CONFLICT',
      });
      expect((error as Error).message).toContain('Stream "s"');
    });

    it('exists: refused for a new stream, accepted once it exists', async () => {
      await expect(
        store.append('s', [event()], { expectedVersion: 'exists' }),
      ).rejects.toMatchObject({ expectedVersion: 'exists', actualVersion: 0 });
      await store.append('s', [event()]);
      await expect(
        store.append('s', [event()], { expectedVersion: 'exists' }),
      ).resolves.toMatchObject({ nextExpectedVersion: 2 });
    });

    it('a number: accepted only when the stream is at exactly that version', async () => {
      await store.append('s', [event(), event()], { expectedVersion: 0 });
      await expect(
        store.append('s', [event()], { expectedVersion: 1 }),
      ).rejects.toMatchObject({
        streamId: 's',
        expectedVersion: 1,
        actualVersion: 2,
      });
      await expect(
        store.append('s', [event()], { expectedVersion: 2 }),
      ).resolves.toMatchObject({ nextExpectedVersion: 3 });
      expect(await store.streamVersion('s')).toBe(3);
    });

    it('any: always accepted', async () => {
      await store.append('s', [event()], { expectedVersion: 'any' });
      await store.append('s', [event()], { expectedVersion: 'any' });
      expect(await store.streamVersion('s')).toBe(2);
    });

    it('rejects an impossible expectation with a clear error and writes nothing', async () => {
      await expect(
        store.append('s', [event()], { expectedVersion: -3 }),
      ).rejects.toThrow(/Expected version of stream "s"/);
      await expect(store.append('', [event()])).rejects.toThrow(/stream id/);
      expect(await store.streamVersion('s')).toBe(0);
    });

    it('appends to several streams all or nothing', async () => {
      await store.append('a', [event()]);
      await expect(
        store.appendToStreams([
          { streamId: 'b', events: [event()], expectedVersion: 'noStream' },
          { streamId: 'a', events: [event()], expectedVersion: 'noStream' },
        ]),
      ).rejects.toMatchObject({ streamId: 'a', actualVersion: 1 });
      expect(await store.streamVersion('b')).toBe(0);

      const results = await store.appendToStreams([
        {
          streamId: 'b',
          events: [event(), event()],
          expectedVersion: 'noStream',
        },
        { streamId: 'a', events: [event()], expectedVersion: 1 },
      ]);
      expect(results.map((r) => [r.streamId, r.nextExpectedVersion])).toEqual([
        ['b', 2],
        ['a', 2],
      ]);
    });
  });

  describe('concurrent writers', () => {
    it('50 concurrent appends to one stream: one winner per version, nothing lost', async () => {
      const writers = 50;
      let conflicts = 0;
      const firstRound = await Promise.allSettled(
        Array.from({ length: writers }, () =>
          store.append('hot', [event()], { expectedVersion: 'noStream' }),
        ),
      );
      expect(firstRound.filter((r) => r.status === 'fulfilled')).toHaveLength(
        1,
      );
      for (const r of firstRound) {
        if (r.status === 'rejected') {
          expect(r.reason).toBeInstanceOf(ConcurrencyError);
        }
      }

      // Every writer retries until its event is in, as a command handler would.
      const ids = await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          const e = event('t.Written', { writer });
          for (;;) {
            const version = await store.streamVersion('hot');
            try {
              await store.append('hot', [e], { expectedVersion: version });
              return e.id;
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              conflicts++;
            }
          }
        }),
      );
      const stored = await collect(store.readStream('hot'));
      expect(stored.map((e) => e.streamVersion)).toEqual(
        Array.from({ length: writers + 1 }, (_, i) => i + 1),
      );
      expect(new Set(stored.slice(1).map((e) => e.id))).toEqual(new Set(ids));
      expect(conflicts).toBeGreaterThanOrEqual(0);
    });

    it('appends with expected version "any" from many writers all land', async () => {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.append('any-stream', [event('t.E', { i })]),
        ),
      );
      const stored = await collect(store.readStream('any-stream'));
      expect(stored).toHaveLength(30);
    });
  });

  describe('reading the whole log', () => {
    it('returns events in order, in batches, filtered by type, and knows its head', async () => {
      expect(await store.headCheckpoint()).toEqual(LOG_START);
      await store.append('a', [event('t.A'), event('t.B')]);
      await store.append('b', [event('t.A')]);
      await store.append('a', [event('t.C')]);
      await visible(store, 4);

      const first = await store.readAll({ limit: 3 });
      expect(first.events.map((e) => `${e.streamId}:${e.type}`)).toEqual([
        'a:t.A',
        'a:t.B',
        'b:t.A',
      ]);
      const rest = await store.readAll({ after: first.checkpoint, limit: 3 });
      expect(rest.events.map((e) => `${e.streamId}:${e.type}`)).toEqual([
        'a:t.C',
      ]);
      const empty = await store.readAll({ after: rest.checkpoint });
      expect(empty.events).toEqual([]);
      expect(empty.checkpoint).toEqual(rest.checkpoint);

      const onlyA = await store.readAll({ types: ['t.A'] });
      expect(onlyA.events.map((e) => e.streamId)).toEqual(['a', 'b']);

      const head = await store.headCheckpoint();
      expect(head).toEqual(rest.checkpoint);
    });

    it('a filtered read looks at the next `limit` events only, and says when it has caught up', async () => {
      // However rare the type, one read costs one window of the log.
      await store.append('a', [event('t.A'), event('t.B')]);
      await store.append('b', [event('t.A')]);
      await store.append('a', [event('t.C')]);
      await visible(store, 4);

      const first = await store.readAll({ types: ['t.C'], limit: 2 });
      expect(first.events).toEqual([]);
      expect(first.caughtUp).toBe(false);
      const second = await store.readAll({
        after: first.checkpoint,
        types: ['t.C'],
        limit: 2,
      });
      expect(second.events.map((e) => e.type)).toEqual(['t.C']);
      expect(second.caughtUp).toBe(false);
      const last = await store.readAll({
        after: second.checkpoint,
        types: ['t.C'],
        limit: 2,
      });
      expect(last.events).toEqual([]);
      expect(last.caughtUp).toBe(true);
      expect(last.checkpoint).toEqual(second.checkpoint);
    });

    it('splits the log into segments by stream: every event in exactly one, each stream whole', async () => {
      const streams = Array.from({ length: 12 }, (_, i) => `s-${i}`);
      for (const streamId of streams) {
        await store.append(streamId, [event('t.A'), event('t.B')]);
      }
      // Another suite's open transaction on the server can hold the log back.
      await visible(store, streams.length * 2);
      const count = 3;
      const bySegment = await Promise.all(
        Array.from({ length: count }, (_, index) =>
          store.readAll({ segment: { index, count }, limit: 100 }),
        ),
      );
      const seen = bySegment.flatMap((b) => b.events.map((e) => e.id));
      expect(seen.sort()).toEqual(
        (await store.readAll({ limit: 100 })).events.map((e) => e.id).sort(),
      );
      const segmentOfStream = new Map<string, number>();
      bySegment.forEach((batch, index) => {
        for (const e of batch.events) {
          expect(segmentOfStream.get(e.streamId) ?? index).toBe(index);
          segmentOfStream.set(e.streamId, index);
        }
      });
      expect(segmentOfStream.size).toBe(streams.length);
      // Combined with a type filter, and stable from one read to the next.
      const again = await store.readAll({
        segment: { index: 1, count },
        types: ['t.B'],
      });
      expect(again.events.map((e) => e.streamId)).toEqual(
        bySegment[1].events
          .filter((e) => e.type === 't.B')
          .map((e) => e.streamId),
      );
    });

    it('a reader following the log sees every event once, each stream in order, while 20 writers commit out of position order', async () => {
      const db = database();
      const writers = 20;
      const perWriter = 5;
      const total = writers * perWriter;
      const reader = follow(store, (seen) => seen.length >= total);
      const commitOrder: bigint[] = [];

      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let n = 0; n < perWriter; n++) {
            // Every third writer holds its transaction open after inserting, so
            // later positions commit before it: the reader must not skip it.
            const e = event('t.E', { w, n });
            for (;;) {
              try {
                const positions = await store.transaction(async (tx) => {
                  const appended = await tx.append(`w-${w % 7}`, [e]);
                  if (db.concurrentTransactions && w % 3 === 0) {
                    await new Promise((r) =>
                      setTimeout(r, 20 + ((w * 7 + n) % 30)),
                    );
                  }
                  return appended.positions;
                });
                commitOrder.push(...positions);
                break;
              } catch (error) {
                // Two writers took the same version of a shared stream: the
                // loser's transaction is rolled back, and it tries again.
                if (!(error instanceof ConcurrencyError)) throw error;
              }
            }
          }
        }),
      );
      const seen = await reader;
      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((e) => e.id)).size).toBe(total);
      const byStream = new Map<string, number[]>();
      for (const e of seen) {
        byStream.set(e.streamId, [
          ...(byStream.get(e.streamId) ?? []),
          e.streamVersion,
        ]);
      }
      for (const versions of byStream.values()) {
        expect(versions).toEqual(versions.map((_, i) => i + 1));
      }
      if (db.concurrentTransactions) {
        // The setup really did commit a lower position after a higher one.
        const sorted = [...commitOrder].sort((a, b) => (a < b ? -1 : 1));
        expect(commitOrder).not.toEqual(sorted);
      }
    });

    it('does not return events of a transaction that is still open, nor anything after it', async () => {
      const db = database();
      if (!db.concurrentTransactions) {
        // One connection: an open transaction blocks every other statement.
        return;
      }
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let inserted!: () => void;
      const insertedYet = new Promise<void>((r) => (inserted = r));
      const open = store.transaction(async (tx) => {
        await tx.append('slow', [event('t.Slow')]);
        inserted();
        await held;
      });
      await insertedYet;
      await store.append('fast', [event('t.Fast')]);

      expect((await store.readAll()).events).toEqual([]);
      expect(await store.headCheckpoint()).toEqual(LOG_START);

      release();
      await open;
      // Now both are readable, in commit-safe order. (Poll: a transaction held
      // open by anything else on the server would hold the log back too.)
      let after = await store.readAll();
      for (let i = 0; i < 400 && after.events.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 25));
        after = await store.readAll();
      }
      expect(after.events.map((e) => e.streamId)).toEqual(['slow', 'fast']);
    });
  });

  describe('the append signal', () => {
    it('fires after a commit that appended, never for a rolled-back transaction', async () => {
      const signal = new LocalAppendSignal();
      let signals = 0;
      signal.subscribe(() => signals++);
      const signalled = new PostgresEventStore(
        store.client,
        store.schema,
        signal,
      );

      await signalled.append('s', [event()]);
      expect(signals).toBe(1);

      await expect(
        signalled.transaction(async (tx) => {
          await tx.append('s', [event()]);
          expect(signals).toBe(1); // not before the commit
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(signals).toBe(1);

      await signalled.transaction(async (tx) => {
        await tx.append('s', [event()]);
        await tx.append('t', [event()]);
      });
      expect(signals).toBe(2);
      expect(await signalled.streamVersion('s')).toBe(2);
    });
  });

  describe('migrations', () => {
    it('run once: a second run applies nothing and keeps the data', async () => {
      await store.append('kept', [event()]);
      expect(await store.migrate()).toEqual([]);
      expect(await store.streamVersion('kept')).toBe(1);
    });

    it('run from two connections at once, as two starting processes would: each applied once', async () => {
      const schema = freshSchema('m');
      const db = database();
      const one = new PostgresEventStore(db.client(), schema);
      const two = new PostgresEventStore(db.otherClient(), schema);
      const [a, b] = await Promise.all([one.migrate(), two.migrate()]);
      expect([...a, ...b].sort((x, y) => x - y)).toEqual(
        MIGRATIONS.map((m) => m.version),
      );
      const applied = await db
        .client()
        .query<{ version: number }>(
          `SELECT version FROM "${schema}".migrations`,
        );
      expect(applied.map((r) => Number(r.version))).toEqual(
        MIGRATIONS.map((m) => m.version),
      );
      await one.append('s', [event()]);
      expect(await two.streamVersion('s')).toBe(1);
      await db.client().exec(`DROP SCHEMA "${schema}" CASCADE`);
    });

    it('adds checkpoint_moved_at to an existing schema, each row starting from its updated_at', async () => {
      const schema = new StoreSchema(freshSchema('m'));
      const client = database().client();
      const before = MIGRATIONS.filter((m) => m.version < 9);
      await migrate(client, schema, before);
      await client.query(
        `INSERT INTO ${schema.table('consumer_positions')} (consumer, segment, segment_count, updated_at)
         VALUES ('old', 0, 1, '2020-01-02T03:04:05Z')`,
      );
      expect(
        await migrate(
          client,
          schema,
          MIGRATIONS.filter((m) => m.version <= 9),
        ),
      ).toEqual([9]);
      const [row] = await client.query<{ moved: string }>(
        `SELECT to_char(checkpoint_moved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS moved
         FROM ${schema.table('consumer_positions')} WHERE consumer = 'old'`,
      );
      expect(row.moved).toBe('2020-01-02 03:04:05');
      await client.exec(`DROP SCHEMA ${schema.quoted} CASCADE`);
    });

    it('refuses a schema name that is not a plain identifier', () => {
      expect(
        () => new PostgresEventStore(database().client(), 'bad"; drop'),
      ).toThrow(StoreConfigurationError);
    });
  });

  describe('handled commands', () => {
    it('records a command with its events, and refuses the same id twice', async () => {
      const command = {
        id: newMessageId(),
        type: 'orders.PlaceOrder',
        result: { ok: 1 },
      };
      await store.appendToStreams(
        [{ streamId: 'o', events: [event()], expectedVersion: 'noStream' }],
        { handledCommand: command },
      );
      expect(await store.findHandledCommand(command.id)).toEqual(command);

      await expect(
        store.appendToStreams(
          [{ streamId: 'o', events: [event()], expectedVersion: 'any' }],
          { handledCommand: command },
        ),
      ).rejects.toBeInstanceOf(CommandAlreadyHandledError);
      expect(await store.streamVersion('o')).toBe(1);
      expect(await store.findHandledCommand('unknown')).toBeUndefined();
    });

    it('does not record the command when its events conflict', async () => {
      await store.append('o', [event()]);
      const command = { id: newMessageId(), type: 't.C', result: null };
      await expect(
        store.appendToStreams(
          [{ streamId: 'o', events: [event()], expectedVersion: 'noStream' }],
          { handledCommand: command },
        ),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await store.findHandledCommand(command.id)).toBeUndefined();
    });
  });
}
