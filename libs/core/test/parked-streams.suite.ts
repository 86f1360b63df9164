import type { INestApplicationContext } from '@nestjs/common';
import { Registry } from 'prom-client';
import {
  ChronicleHealthIndicator,
  ChronicleMetrics,
  Consumer,
  ConsumerDefinitionError,
  DeadLetters,
  type ErrorPolicy,
  EventStore,
  HandleEvent,
  OnReset,
  StreamNotParkedError,
  TrackingService,
  type ConsumerContext,
  type PostgresEventStore,
  type SqlClient,
  type StoredEvent,
} from '../src/index.js';
import { readConsumerGauges } from '../src/tracking/consumer-metrics.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  Deposited,
  LenientConsumer,
  deposited,
  poison,
  trackingApp,
  waitFor,
} from './tracking.fixture.js';

/** What the parking consumer refuses, and where it writes what it applied. */
export const parking = { refused: new Set<number>(), table: '' };

/**
 * A projection kept exactly-once under the `park` policy: it refuses the
 * amounts in `parking.refused`, and writes each event it applies in the
 * batch's transaction (a unique stream version: an event applied twice fails).
 */
@Consumer('parking', {
  segments: 2,
  maxAttempts: 2,
  retryDelayMs: 5,
  onError: 'park',
})
export class ParkingConsumer {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    envelope: StoredEvent<Deposited>,
    context: ConsumerContext,
  ): Promise<void> {
    if (parking.refused.has(event.amount))
      throw new Error(`refused amount ${event.amount}`);
    const sql = await context.sql();
    await sql.query(
      `INSERT INTO ${parking.table} (stream, version, amount) VALUES ($1::text, $2::int, $3::int)`,
      [envelope.streamId, envelope.streamVersion, event.amount],
    );
  }

  @OnReset()
  async clear(context: ConsumerContext): Promise<void> {
    await (await context.sql()).query(`DELETE FROM ${parking.table}`);
  }
}

/** A policy misspelt (from untyped configuration, say). */
@Consumer('misspelt', { onError: 'parked' as ErrorPolicy })
class MisspeltPolicy {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

/** Sequenced dead letters (`onError: 'park'`), on each database. */
export function parkedStreamsSuite(database: () => TestDatabase): void {
  let schema: string;
  let client: SqlClient;
  const apps: INestApplicationContext[] = [];

  async function start() {
    const app = await trackingApp(client, schema, [
      ParkingConsumer,
      LenientConsumer,
    ]);
    apps.push(app);
    return {
      store: app.get(EventStore) as PostgresEventStore,
      tracking: app.get(TrackingService),
      deadLetters: app.get(DeadLetters),
      health: app.get(ChronicleHealthIndicator),
    };
  }

  /** The amounts applied to `stream`, in the order they were applied. */
  async function applied(stream?: string): Promise<number[]> {
    const rows = await client.query<{ amount: number }>(
      `SELECT amount FROM ${parking.table} WHERE $1::text IS NULL OR stream = $1::text ORDER BY id`,
      [stream ?? null],
    );
    return rows.map((r) => Number(r.amount));
  }

  async function parkedVersions(stream: string): Promise<number[]> {
    const rows = await client.query<{ v: number }>(
      `SELECT stream_version::int AS v FROM "${schema}".parked_events
       WHERE consumer = 'parking' AND stream_id = $1::text ORDER BY stream_version`,
      [stream],
    );
    return rows.map((r) => Number(r.v));
  }

  /**
   * Appends a poison event (-1) in the middle of stream a, with good events
   * of b around it, then more of both once a is parked. Returns when b's
   * later events are applied.
   */
  async function parkStreamA(store: PostgresEventStore): Promise<void> {
    parking.refused.add(-1);
    await store.append('a', [deposited('a', 1), deposited('a', -1)]);
    await store.append('b', [deposited('b', 10)]);
    await waitFor(
      async () => (await parkedVersions('a')).length === 1,
      'a parked',
    );
    await store.append('a', [deposited('a', 2), deposited('a', 3)]);
    await store.append('b', [deposited('b', 11), deposited('b', 12)]);
    await waitFor(
      async () => (await applied('b')).length === 3,
      "b's later events",
    );
    await waitFor(
      async () => (await parkedVersions('a')).length === 3,
      "a's later events parked",
    );
  }

  beforeEach(async () => {
    schema = freshSchema('park');
    client = database().client();
    parking.refused = new Set();
    parking.table = `"${schema}".applied`;
    poison.handled = [];
    poison.attempts = 0;
  });

  afterEach(async () => {
    while (apps.length > 0) await apps.pop()?.close();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  async function startWithTable() {
    const started = await start();
    await client.query(
      `CREATE TABLE ${parking.table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         stream text NOT NULL, version int NOT NULL, amount int NOT NULL, UNIQUE (stream, version))`,
    );
    return started;
  }

  it('a poison event parks its stream: its later events wait in order, unhandled, while other streams flow on', async () => {
    const { store, tracking, deadLetters, health } = await startWithTable();
    await parkStreamA(store);

    expect(await applied('a')).toEqual([1]);
    expect(await applied('b')).toEqual([10, 11, 12]);
    expect(await parkedVersions('a')).toEqual([2, 3, 4]);
    const list = await deadLetters.list('parking');
    expect(list.skipped).toEqual([]);
    expect(list.parked).toEqual([
      {
        stream: 'a',
        firstEvent: {
          id: expect.any(String),
          type: 'tracking.Deposited',
          position: expect.any(BigInt),
          streamVersion: 2,
        },
        events: 3,
        error: 'refused amount -1',
        attempts: 2,
        parkedAt: expect.any(Date),
        failedAt: expect.any(Date),
        retryRequestedAt: null,
      },
    ]);
    // Every segment moved past the parked events: nothing is behind.
    await waitFor(async () => {
      const [h] = await tracking.health('parking');
      return h.segments.every((s) => s.behind === 0);
    }, 'the checkpoints past the parked events');
    const [h] = await tracking.health('parking');
    expect(h).toMatchObject({
      healthy: true,
      parkedStreams: 1,
      parkedEvents: 3,
    });
    expect((await health.checkConsumers()).consumers).toMatchObject({
      status: 'up',
      parkedStreams: { parking: 1, lenient: 0 },
      parkedEvents: { parking: 3, lenient: 0 },
    });
    // The scrape's gauges, per consumer (no stream in a label).
    const registry = new Registry();
    ChronicleMetrics.forRegistry(registry).addScrapeSource(() =>
      readConsumerGauges(client, store.schema, tracking.reads()),
    );
    const text = await registry.metrics();
    expect(text).toContain(
      'chronicle_consumer_parked_streams{consumer="parking"} 1',
    );
    expect(text).toContain(
      'chronicle_consumer_parked_events{consumer="parking"} 3',
    );
    expect(text).toContain(
      'chronicle_consumer_parked_streams{consumer="lenient"} 0',
    );
  });

  it('later events of the stream in the same batch as the poison event are parked behind it', async () => {
    const { store, deadLetters } = await startWithTable();
    parking.refused.add(-1);
    await store.appendToStreams([
      {
        streamId: 'c',
        expectedVersion: 'any',
        events: [
          deposited('c', 5),
          deposited('c', -1),
          deposited('c', 6),
          deposited('c', 7),
        ],
      },
      {
        streamId: 'd',
        expectedVersion: 'any',
        events: [deposited('d', 20), deposited('d', 21)],
      },
    ]);
    await waitFor(
      async () => (await parkedVersions('c')).length === 3,
      'c parked',
    );
    await waitFor(async () => (await applied('d')).length === 2, 'd applied');
    expect(await applied('c')).toEqual([5]);
    expect(await parkedVersions('c')).toEqual([2, 3, 4]);
    parking.refused.clear();
    await deadLetters.retry('parking', { stream: 'c' });
    expect(await applied('c')).toEqual([5, -1, 6, 7]);
  });

  it('a retry after the fix applies the parked events in order, exactly once, and the stream flows again', async () => {
    const { store, deadLetters } = await startWithTable();
    await parkStreamA(store);
    parking.refused.clear();

    // A live event of the stream arriving as the retry is asked for waits
    // behind the parked ones: parked after them, or handled after the retry.
    const [outcome] = await Promise.all([
      deadLetters.retry('parking'),
      store.append('a', [deposited('a', 4)]),
    ]);
    expect(outcome).toEqual([
      {
        stream: 'a',
        status: 'applied',
        applied: expect.any(Number),
        remaining: 0,
      },
    ]);
    await waitFor(
      async () => (await applied('a')).length === 5,
      "a's live event",
    );
    expect(await applied('a')).toEqual([1, -1, 2, 3, 4]);
    expect((await deadLetters.list('parking')).parked).toEqual([]);

    await store.append('a', [deposited('a', 5)]);
    await waitFor(
      async () => (await applied('a')).length === 6,
      "a's next event",
    );
    expect(await applied('a')).toEqual([1, -1, 2, 3, 4, 5]);
    expect(await parkedVersions('a')).toEqual([]);
  });

  it('a retry that fails again keeps the stream parked from that event, with the new error and attempts', async () => {
    const { store, deadLetters } = await startWithTable();
    await parkStreamA(store);

    const [again] = await deadLetters.retry('parking', { stream: 'a' });
    expect(again).toEqual({
      stream: 'a',
      status: 'failed',
      applied: 0,
      remaining: 3,
      error: 'refused amount -1',
      attempts: 3,
    });
    // Fixed for -1 but not for 2: the first applies, the stream parks at the second.
    parking.refused = new Set([2]);
    const [partly] = await deadLetters.retry('parking', { stream: 'a' });
    expect(partly).toEqual({
      stream: 'a',
      status: 'failed',
      applied: 1,
      remaining: 2,
      error: 'refused amount 2',
      attempts: 1,
    });
    expect(await applied('a')).toEqual([1, -1]);
    expect(await parkedVersions('a')).toEqual([3, 4]);
    const [sequence] = (await deadLetters.list('parking', { stream: 'a' }))
      .parked;
    expect(sequence).toMatchObject({
      firstEvent: { streamVersion: 3 },
      events: 2,
      error: 'refused amount 2',
      attempts: 1,
    });
  });

  it('a drop deletes the parked events unhandled; later events of the stream are handled', async () => {
    const { store, deadLetters } = await startWithTable();
    await parkStreamA(store);

    await expect(
      deadLetters.drop('parking', { stream: 'nope' }),
    ).rejects.toBeInstanceOf(StreamNotParkedError);
    expect(await deadLetters.drop('parking', { stream: 'a' })).toEqual([
      { stream: 'a', events: 3 },
    ]);
    expect(await deadLetters.list('parking')).toMatchObject({ parked: [] });
    await store.append('a', [deposited('a', 5)]);
    await waitFor(
      async () => (await applied('a')).length === 2,
      "a's next event",
    );
    expect(await applied('a')).toEqual([1, 5]);
  });

  it('a retry is run by the segment owner, when the API runs in another app', async () => {
    const { store } = await startWithTable();
    await parkStreamA(store);
    parking.refused.clear();
    // An app that runs no consumer: the request goes through the database.
    const other = await trackingApp(client, schema, [], {
      enabled: false,
    });
    apps.push(other);
    const outcome = await other.get(DeadLetters).retry('parking');
    expect(outcome).toEqual([
      { stream: 'a', status: 'applied', applied: 3, remaining: 0 },
    ]);
    expect(await applied('a')).toEqual([1, -1, 2, 3]);
  });

  it('a retry nobody owns stays pending, and the next instance to run the consumer applies it', async () => {
    const first = await startWithTable();
    await parkStreamA(first.store);
    await apps.shift()?.close();
    parking.refused.clear();
    const operator = await trackingApp(client, schema, [], { enabled: false });
    apps.push(operator);
    expect(
      await operator.get(DeadLetters).retry('parking', { timeoutMs: 200 }),
    ).toEqual([{ stream: 'a', status: 'pending', applied: 0, remaining: 3 }]);
    expect(await applied('a')).toEqual([1]);

    await start();
    await waitFor(
      async () => (await applied('a')).length === 4,
      'the pending retry, by the new owner',
    );
    expect(await applied('a')).toEqual([1, -1, 2, 3]);
    expect(await parkedVersions('a')).toEqual([]);
  });

  it('a new owner of the segment knows its parked streams: their next events are parked too', async () => {
    const first = await startWithTable();
    await parkStreamA(first.store);
    await apps.shift()?.close();
    const { store, deadLetters } = await start();
    await store.append('a', [deposited('a', 4)]);
    await store.append('b', [deposited('b', 13)]);
    await waitFor(async () => (await applied('b')).length === 4, "b's event");
    await waitFor(
      async () => (await parkedVersions('a')).length === 4,
      "a's event parked by the new owner",
    );
    expect(await applied('a')).toEqual([1]);
    parking.refused.clear();
    await deadLetters.retry('parking', { stream: 'a' });
    expect(await applied('a')).toEqual([1, -1, 2, 3, 4]);
  });

  it('a replay meets the parked events again: fixed, they are handled in order and nothing stays parked', async () => {
    const { store, tracking, deadLetters } = await startWithTable();
    await parkStreamA(store);
    parking.refused.clear();
    await tracking.reset('parking', { to: 'beginning' });
    await waitFor(
      async () => (await applied()).length === 7,
      'the replay of every event',
    );
    expect(await applied('a')).toEqual([1, -1, 2, 3]);
    expect(await applied('b')).toEqual([10, 11, 12]);
    expect((await deadLetters.list('parking')).parked).toEqual([]);
  });

  it('an unknown onError is refused at start, naming the policies', async () => {
    await expect(trackingApp(client, schema, [MisspeltPolicy])).rejects.toThrow(
      new ConsumerDefinitionError(
        `Consumer "misspelt" asks for onError "parked": use 'stop', 'skip' or 'park'.`,
      ),
    );
  });

  it('list also shows the events skipped under the skip policy', async () => {
    const { store, deadLetters } = await startWithTable();
    await store.append('acct-1', [
      deposited('acct-1', -1),
      deposited('acct-1', 2),
    ]);
    await waitFor(() => poison.handled.length === 1, 'the good event');
    expect(await deadLetters.list('lenient')).toEqual({
      consumer: 'lenient',
      parked: [],
      skipped: [
        {
          segment: 0,
          stream: 'acct-1',
          event: {
            id: expect.any(String),
            type: 'tracking.Deposited',
            position: expect.any(BigInt),
          },
          attempts: 3,
          error: 'negative amount -1',
          failedAt: expect.any(Date),
        },
      ],
    });
  });
}
