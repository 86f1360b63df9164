import {
  CommandAlreadyHandledError,
  ConcurrencyError,
  LocalAppendSignal,
  PostgresEventStore,
  type AppendResult,
  type StoredEvent,
} from '../src/index.js';
import type { TestDatabase } from './databases.js';
import { event } from './event-store.suite.js';

async function eventsOf(
  store: PostgresEventStore,
  streamId: string,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function rejections(results: PromiseSettledResult<unknown>[]): unknown[] {
  return results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
}

/**
 * Group commit: concurrent appends outside transactions share statements,
 * each unit of work atomic on its own and told its own outcome.
 */
export function groupCommitSuite(database: () => TestDatabase): void {
  let store: PostgresEventStore;

  beforeEach(async () => {
    store = await database().freshStore();
  });

  const stats = () => store.groupCommit!.stats;

  /** A command's message log row, as a unit of work hands it to the append. */
  const logRecord = (i: number, prefix = 'log') => ({
    kind: 'command',
    logged_at: new Date().toISOString(),
    id: `${prefix}-${i}`,
    type: 't.Command',
    payload: { i },
    metadata: { correlationId: `${prefix}-${i}` },
    finished_at: new Date().toISOString(),
    duration_ms: 0,
    outcome: 'ok',
    result: { value: i },
  });

  /** The log rows written, with the streams and positions each names. */
  const loggedRows = () =>
    store.client.query<{
      id: string;
      streams: string[] | null;
      positions: string[] | null;
    }>(
      `SELECT id, streams, positions::text[] AS positions
         FROM ${store.schema.messageLog} ORDER BY id`,
    );

  it('is on by default and off with groupCommit: false', () => {
    expect(store.groupCommit).toBeDefined();
    const off = new PostgresEventStore(store.client, store.schema, undefined, {
      groupCommit: false,
    });
    expect(off.groupCommit).toBeUndefined();
  });

  it('50 writers on 50 streams all succeed, in fewer statements than writers', async () => {
    const results = await Promise.all(
      range(50).map((i) =>
        store.append(`acc-${i}`, [event('t.Opened', { i }), event()], {
          expectedVersion: 'noStream',
        }),
      ),
    );
    expect(stats().units).toBe(50);
    expect(stats().statements).toBeLessThan(50);
    expect(stats().largestBatch).toBeGreaterThan(1);
    for (const [i, result] of results.entries()) {
      const stored = await eventsOf(store, `acc-${i}`);
      expect(stored.map((e) => e.streamVersion)).toEqual([1, 2]);
      expect(stored[0].payload).toEqual({ i });
      expect(result).toEqual({
        streamId: `acc-${i}`,
        nextExpectedVersion: 2,
        positions: stored.map((e) => e.position),
        transactionId: stored[0].transactionId,
      });
    }
  });

  it('callers that append again as soon as their statement returns go together, not the first alone', async () => {
    // 8 callers, 5 appends each: the first goes alone, the next 7 together,
    // then all 8 together each time (8 + 8 + 8 + 8).
    await Promise.all(
      range(8).map(async (caller) => {
        for (const round of range(5)) {
          await store.append(`c-${caller}-${round}`, [event()]);
        }
      }),
    );
    expect(stats().units).toBe(40);
    expect(stats().statements).toBe(6);
    expect(stats().largestBatch).toBe(8);
  });

  it("each unit's message log row in a shared statement gets its own streams and positions; a refused unit's row is not written", async () => {
    // Units of different shapes: 1 to 3 events, one or two streams, unit 3
    // refused by its expectation, unit 5 a record-only command.
    const settled = await Promise.allSettled(
      range(6).map((i) =>
        store.appendToStreams(
          i === 5
            ? []
            : [
                {
                  streamId: `u-${i}-a`,
                  expectedVersion: i === 3 ? 7 : 'any',
                  events: range((i % 3) + 1).map(() => event()),
                },
                ...(i % 2 === 0
                  ? [
                      {
                        streamId: `u-${i}-b`,
                        expectedVersion: 'any' as const,
                        events: [event()],
                      },
                    ]
                  : []),
              ],
          {
            logRecord: logRecord(i),
            ...(i === 5 && {
              handledCommand: { id: 'cmd-5', type: 't.Command', result: 5 },
            }),
          },
        ),
      ),
    );
    expect(stats().largestBatch).toBeGreaterThan(1);
    expect(rejections(settled)).toEqual([expect.any(ConcurrencyError)]);
    const logged = await loggedRows();
    const expected = [];
    for (const i of [0, 1, 2, 4, 5]) {
      const streams =
        i === 5 ? [] : [`u-${i}-a`, ...(i % 2 === 0 ? [`u-${i}-b`] : [])];
      const positions: bigint[] = [];
      for (const stream of streams) {
        for (const e of await eventsOf(store, stream))
          positions.push(e.position);
      }
      positions.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expected.push({
        id: `log-${i}`,
        streams: streams.length > 0 ? streams : null,
        positions: positions.length > 0 ? positions.map(String) : null,
      });
    }
    expect(logged).toEqual(expected);
  });

  it("units without a message log row between units with one: each row still gets its own unit's positions", async () => {
    // Only units 1, 4 and 7 carry a row: the statement receives rows for
    // those units alone, each naming its unit.
    const settled = await Promise.allSettled(
      range(8).map((i) =>
        store.appendToStreams(
          [
            {
              streamId: `sparse-${i}`,
              expectedVersion: 'any',
              events: range((i % 2) + 1).map(() => event()),
            },
          ],
          i % 3 === 1 ? { logRecord: logRecord(i, 'sparse-log') } : {},
        ),
      ),
    );
    expect(stats().largestBatch).toBeGreaterThan(1);
    expect(rejections(settled)).toEqual([]);
    const logged = await loggedRows();
    const expected = [];
    for (const i of [1, 4, 7]) {
      const events = await eventsOf(store, `sparse-${i}`);
      expected.push({
        id: `sparse-log-${i}`,
        streams: [`sparse-${i}`],
        positions: events.map((e) => String(e.position)),
      });
    }
    expect(logged).toEqual(expected);
  });

  it('50 writers on one stream: every acknowledged event stored once, gap-free, every other writer a ConcurrencyError', async () => {
    await store.append('hot', [event()]);
    const results = await Promise.allSettled(
      range(50).map(async (writer) => {
        const version = await store.streamVersion('hot');
        return store.append('hot', [event('t.Written', { writer })], {
          expectedVersion: version,
        });
      }),
    );
    // Neighbours on other streams coalesce meanwhile; "hot" goes once per statement.
    const errors = rejections(results);
    for (const error of errors) expect(error).toBeInstanceOf(ConcurrencyError);
    const acknowledged = results.flatMap((r, writer) =>
      r.status === 'fulfilled' ? [{ writer, result: r.value }] : [],
    );
    expect(acknowledged.length + errors.length).toBe(50);
    expect(acknowledged.length).toBeGreaterThan(0);
    const stored = await eventsOf(store, 'hot');
    expect(stored.map((e) => e.streamVersion)).toEqual(
      range(1 + acknowledged.length).map((i) => i + 1),
    );
    const writers = stored.slice(1).map((e) => e.payload.writer);
    expect([...writers].sort()).toEqual(
      acknowledged.map((a) => a.writer).sort(),
    );
    for (const { writer, result } of acknowledged) {
      const mine = stored.find((e) => e.payload.writer === writer)!;
      expect(result.nextExpectedVersion).toBe(mine.streamVersion);
      expect(result.positions).toEqual([mine.position]);
    }
    // Each conflict is precise: the version it expected is not the one it met.
    for (const error of errors as ConcurrencyError[]) {
      expect(error.streamId).toBe('hot');
      expect(error.actualVersion).not.toBe(error.expectedVersion);
    }
    expect(stats().units).toBe(51);
  });

  it('50 writers on one stream beside 50 on their own streams: the others coalesce, conflicts stay with their callers', async () => {
    await store.append('hot', [event()]);
    const hot = range(50).map(() =>
      store.append('hot', [event()], { expectedVersion: 1 }),
    );
    const cold = range(50).map((i) =>
      store.append(`cold-${i}`, [event()], { expectedVersion: 'noStream' }),
    );
    const hotResults = await Promise.allSettled(hot);
    await Promise.all(cold);
    const won = hotResults.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const error of rejections(hotResults)) {
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect((error as ConcurrencyError).actualVersion).toBe(2);
    }
    expect((await eventsOf(store, 'hot')).map((e) => e.streamVersion)).toEqual([
      1, 2,
    ]);
    expect(stats().statements).toBeLessThan(100);
  });

  it('duplicate command ids: the second writer of an id gets CommandAlreadyHandledError and writes nothing, its neighbours commit', async () => {
    const results = await Promise.allSettled(
      range(40).map((i) =>
        store.appendToStreams(
          [
            {
              streamId: `order-${i}`,
              expectedVersion: 'noStream',
              events: [event('t.Placed', { i })],
            },
          ],
          // Units 0..9 and 10..19 share their command ids; 20..39 are alone.
          {
            handledCommand: {
              id: `cmd-${i < 20 ? i % 10 : i}`,
              type: 't.Place',
              result: { by: i },
            },
          },
        ),
      ),
    );
    expect(stats().largestBatch).toBeGreaterThan(1);
    for (const [i, r] of results.entries()) {
      const stored = await eventsOf(store, `order-${i}`);
      if (i >= 10 && i < 20) {
        expect(r.status).toBe('rejected');
        const reason = (r as PromiseRejectedResult).reason as unknown;
        expect(reason).toBeInstanceOf(CommandAlreadyHandledError);
        expect((reason as CommandAlreadyHandledError).commandId).toBe(
          `cmd-${i % 10}`,
        );
        expect(stored).toEqual([]);
      } else {
        expect(r.status).toBe('fulfilled');
        expect(stored).toHaveLength(1);
        const record = await store.findHandledCommand(`cmd-${i}`);
        expect(record?.result).toEqual({ by: i });
      }
    }
  });

  it('a record-only unit (no events) coalesces too, and its duplicate is refused', async () => {
    const first = store.append('lead', [event()]);
    const records = range(5).map((i) =>
      store.appendToStreams([], {
        handledCommand: { id: `rec-${i % 3}`, type: 't.Noop', result: i },
      }),
    );
    await first;
    const results = await Promise.allSettled(records);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
    ]);
    for (const error of rejections(results)) {
      expect(error).toBeInstanceOf(CommandAlreadyHandledError);
    }
    expect((await store.findHandledCommand('rec-0'))?.result).toBe(0);
    expect(stats().largestBatch).toBe(3);
  });

  it('a unit whose expectation fails in a batch writes nothing; its neighbours commit', async () => {
    await store.append('taken', [event()]);
    const lead = store.append('lead', [event()]);
    // Queued behind the lead, these three go as one statement.
    const pending = [
      store.appendToStreams(
        [
          { streamId: 'left', expectedVersion: 'noStream', events: [event()] },
          { streamId: 'taken', expectedVersion: 'noStream', events: [event()] },
        ],
        { handledCommand: { id: 'conflicted', type: 't.Do', result: null } },
      ),
      store.append('right', [event()], { expectedVersion: 'noStream' }),
      store.append('middle', [event(), event()]),
    ];
    await lead;
    const [conflicted, right, middle] = await Promise.allSettled(pending);
    expect(stats().largestBatch).toBe(3);
    expect(conflicted.status).toBe('rejected');
    const error = (conflicted as PromiseRejectedResult).reason as unknown;
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({
      streamId: 'taken',
      expectedVersion: 'noStream',
      actualVersion: 1,
    });
    expect(await eventsOf(store, 'left')).toEqual([]);
    expect(await store.findHandledCommand('conflicted')).toBeUndefined();
    expect(right.status).toBe('fulfilled');
    expect(middle.status).toBe('fulfilled');
    const r = (right as PromiseFulfilledResult<AppendResult>).value;
    const m = (middle as PromiseFulfilledResult<AppendResult>).value;
    // One statement, one transaction.
    expect(r.transactionId).toBe(m.transactionId);
    expect(m.positions).toEqual(
      (await eventsOf(store, 'middle')).map((e) => e.position),
    );
  });

  it('a unit that fails the whole statement fails alone: its neighbours commit', async () => {
    const duplicate = event();
    await store.append('first', [duplicate]);
    const lead = store.append('lead', [event()]);
    // An event id already stored: the batch's insert fails as a whole.
    const pending = [
      store.append('left', [event()]),
      store.append('again', [duplicate]),
      store.append('right', [event()]),
    ];
    await lead;
    const [left, again, right] = await Promise.allSettled(pending);
    expect(stats().largestBatch).toBe(3);
    expect(left.status).toBe('fulfilled');
    expect(right.status).toBe('fulfilled');
    expect(again.status).toBe('rejected');
    expect(String((again as PromiseRejectedResult).reason)).toMatch(
      /events_id_key/,
    );
    expect(await eventsOf(store, 'again')).toEqual([]);
    expect(await eventsOf(store, 'left')).toHaveLength(1);
    expect(await eventsOf(store, 'right')).toHaveLength(1);
  });

  it('wakes readers once per statement, with the types its units committed, before answering', async () => {
    const signal = new LocalAppendSignal();
    const heard: (readonly string[] | undefined)[] = [];
    signal.subscribe((types) => heard.push(types));
    const signalled = new PostgresEventStore(
      store.client,
      store.schema,
      signal,
    );
    await signalled.append('taken', [event('t.Taken')]);
    const lead = signalled.append('lead', [event('t.Lead')]);
    const pending = [
      signalled.append('a', [event('t.A'), event('t.Shared')]),
      signalled.append('b', [event('t.B'), event('t.Shared')]),
      signalled
        .append('taken', [event('t.Refused')], { expectedVersion: 'noStream' })
        .catch((error: unknown) => error),
    ];
    await lead;
    expect(heard).toEqual([['t.Taken'], ['t.Lead']]);
    const [, , refused] = await Promise.all(pending);
    expect(refused).toBeInstanceOf(ConcurrencyError);
    expect(signalled.groupCommit!.stats.largestBatch).toBe(3);
    expect(heard).toHaveLength(3);
    expect([...heard[2]!].sort()).toEqual(['t.A', 't.B', 't.Shared']);
  });

  it('a wake-up listener that throws does not fail committed appends', async () => {
    const signal = new LocalAppendSignal();
    signal.subscribe(() => {
      throw new Error('listener broke');
    });
    const signalled = new PostgresEventStore(
      store.client,
      store.schema,
      signal,
    );
    const results = await Promise.allSettled(
      range(5).map((i) => signalled.append(`w-${i}`, [event()])),
    );
    expect(results.map((r) => r.status)).toEqual(
      range(5).map(() => 'fulfilled'),
    );
    expect(signalled.groupCommit!.stats.largestBatch).toBe(4);
  });

  it('with groupCommit: false, appends go one statement each, as before', async () => {
    const off = new PostgresEventStore(store.client, store.schema, undefined, {
      groupCommit: false,
    });
    const results = await Promise.allSettled([
      ...range(20).map((i) => off.append(`s-${i}`, [event()])),
      off.appendToStreams([], {
        handledCommand: { id: 'once', type: 't.Do', result: 1 },
      }),
      off.appendToStreams([], {
        handledCommand: { id: 'once', type: 't.Do', result: 2 },
      }),
    ]);
    const errors = rejections(results);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(CommandAlreadyHandledError);
    expect(stats().units).toBe(0);
    for (const i of range(20)) {
      expect(await eventsOf(store, `s-${i}`)).toHaveLength(1);
    }
  });
}
