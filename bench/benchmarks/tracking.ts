import { performance } from 'node:perf_hooks';
import {
  Consumer,
  EventStore,
  HandleEvent,
  OnReset,
  TrackingService,
  type ConsumerContext,
  type PostgresEventStore,
  type StoredEvent,
} from '@chronicle/core';
import type { INestApplicationContext } from '@nestjs/common';
import {
  AccountOpened,
  Deposited,
  Withdrawn,
  seedEnvelopes,
} from '../domain/account.js';
import { createChronicleApp } from '../support/chronicle-app.js';
import { BenchDatabase } from '../support/database.js';
import { median, percentile } from '../support/stats.js';
import { row } from '../support/report.js';
import type { Benchmark } from './benchmark.js';

const EVENTS = 100_000;
const STREAMS = 100;
const BATCH = 1000;
const ROUNDS = 3;
const WAKEUPS = 200;
const AIM_RATIO = 0.5;
const AIM_PROJECTION_RATIO = 0.8;
const AIM_WAKEUP_P50_MS = 20;

const counters = {
  noop: 0,
  projection: 0,
  isolated: 0,
  table: '',
  isolatedTable: '',
};
const wakeups: { received?: (at: number) => void } = {};

@Consumer('bench-noop', { batchSize: BATCH })
class NoopConsumer {
  @HandleEvent(AccountOpened, Deposited, Withdrawn)
  on(): void {
    counters.noop++;
  }
}

/** What both projections do per event: one row, in the consumer's transaction. */
async function insertRow(
  table: string,
  envelope: StoredEvent<object>,
  context: ConsumerContext,
): Promise<void> {
  await (
    await context.sql()
  ).query(
    `INSERT INTO ${table} (position, stream_id) VALUES ($1::bigint, $2::text)`,
    [envelope.position.toString(), envelope.streamId],
  );
}

@Consumer('bench-projection', { batchSize: BATCH })
class RowPerEventProjection {
  @HandleEvent(AccountOpened, Deposited, Withdrawn)
  async on(
    _event: object,
    envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    await insertRow(counters.table, envelope, context);
    counters.projection++;
  }

  @OnReset()
  async clear(context: ConsumerContext): Promise<void> {
    await (await context.sql()).query(`TRUNCATE ${counters.table}`);
  }
}

/** The same projection with a savepoint around every event (what every batch paid before `savepoints: 'on-failure'`). */
@Consumer('bench-projection-isolated', {
  batchSize: BATCH,
  savepoints: 'every-event',
  startFrom: 'now',
})
class IsolatedRowPerEventProjection {
  @HandleEvent(AccountOpened, Deposited, Withdrawn)
  async on(
    _event: object,
    envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    await insertRow(counters.isolatedTable, envelope, context);
    counters.isolated++;
  }

  @OnReset()
  async clear(context: ConsumerContext): Promise<void> {
    await (await context.sql()).query(`TRUNCATE ${counters.isolatedTable}`);
  }
}

@Consumer('bench-wakeup', { startFrom: 'now' })
class WakeupConsumer {
  @HandleEvent(Deposited)
  on(): void {
    wakeups.received?.(performance.now());
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 1));
}

export const trackingBenchmark: Benchmark = {
  name: 'tracking',
  description: `catch-up of ${EVENTS.toLocaleString('en-US')} stored events (no-op consumer vs a raw pg cursor read; projection writing a row per event in its position transaction vs raw pg doing the same batches); in-process wake-up latency`,
  async run() {
    const db = new BenchDatabase();
    let app: INestApplicationContext | undefined;
    let writer: INestApplicationContext | undefined;
    try {
      const schema = db.reserveSchema('tracking');
      // Seed first, with tracking off, so the catch-up rounds start from a full log.
      const seeder = await createChronicleApp({
        client: db.client,
        schema,
        aggregates: [],
      });
      const seedStore = seeder.get(EventStore) as PostgresEventStore;
      for (let from = 0; from < EVENTS; from += 1000) {
        await seedStore.appendToStreams(
          Array.from({ length: 10 }, (_, s) => ({
            streamId: `bench.Account-${((from / 1000) * 10 + s) % STREAMS}`,
            expectedVersion: 'any' as const,
            events: seedEnvelopes(from + s * 100, 100),
          })),
        );
      }
      await seeder.close();
      counters.table = `"${schema}".projection_rows`;
      counters.isolatedTable = `"${schema}".projection_rows_isolated`;
      const rawTable = `"${schema}".raw_projection_rows`;
      const rawPosition = `"${schema}".raw_projection_position`;
      for (const table of [counters.table, counters.isolatedTable, rawTable])
        await db.pool.query(
          `CREATE TABLE ${table} (position bigint NOT NULL, stream_id text NOT NULL)`,
        );
      await db.pool.query(
        `CREATE TABLE ${rawPosition} (name text PRIMARY KEY, transaction_id xid8 NOT NULL, position bigint NOT NULL)`,
      );
      await db.warmPool();

      const events = `"${schema}".events`;
      const rawCursorRead = async (): Promise<number> => {
        const client = await db.pool.connect();
        let n = 0;
        try {
          await client.query('BEGIN');
          await client.query(
            `DECLARE raw_read NO SCROLL CURSOR FOR SELECT position, id, stream_id, stream_version, type, revision, payload, metadata, created_at, transaction_id::text
             FROM ${events} ORDER BY transaction_id, position`,
          );
          for (;;) {
            const { rows } = await client.query(`FETCH ${BATCH} FROM raw_read`);
            if (rows.length === 0) break;
            n += rows.length;
          }
          await client.query('COMMIT');
        } finally {
          client.release();
        }
        return n;
      };

      // The fair baseline of the projection: what a hand-written exactly-once
      // projection on raw pg does. Each batch: the same commit-safe read
      // (same batch size, same filter, same order), then one transaction
      // holding the same per-row INSERT for each event and the update of its
      // position row. Timed from its reset (truncate, rewind) to its last commit.
      const rawReadSql = `SELECT e.position::text AS position, e.id, e.stream_id, e.stream_version, e.type, e.revision, e.payload, e.metadata, e.created_at, e.transaction_id::text AS transaction_id
        FROM ${events} e
        WHERE (e.transaction_id, e.position) > ($1::text::xid8, $2::bigint)
          AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.transaction_id, e.position LIMIT $3::int`;
      const rawProjection = async (): Promise<number> => {
        await db.pool.query(`TRUNCATE ${rawTable}`);
        await db.pool.query(
          `INSERT INTO ${rawPosition} VALUES ('raw', '0', 0)
           ON CONFLICT (name) DO UPDATE SET transaction_id = '0', position = 0`,
        );
        let after = { transactionId: '0', position: '0' };
        let n = 0;
        for (;;) {
          const { rows } = await db.pool.query<{
            position: string;
            stream_id: string;
            transaction_id: string;
          }>({
            name: 'raw_projection_read',
            text: rawReadSql,
            values: [after.transactionId, after.position, BATCH],
          });
          if (rows.length === 0) {
            if (n >= EVENTS) break;
            // A transaction open anywhere on the server holds the horizon
            // back: look again, as a consumer polls.
            await new Promise((r) => setTimeout(r, 1));
            continue;
          }
          const last = rows[rows.length - 1];
          const client = await db.pool.connect();
          try {
            await client.query('BEGIN');
            for (const r of rows) {
              await client.query(
                `INSERT INTO ${rawTable} (position, stream_id) VALUES ($1::bigint, $2::text)`,
                [r.position, r.stream_id],
              );
            }
            await client.query({
              name: 'raw_projection_position',
              text: `UPDATE ${rawPosition} SET transaction_id = $2::text::xid8, position = $3::bigint WHERE name = $1::text`,
              values: ['raw', last.transaction_id, last.position],
            });
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          } finally {
            client.release();
          }
          n += rows.length;
          after = {
            transactionId: last.transaction_id,
            position: last.position,
          };
        }
        return n;
      };
      const [{ head }] = (
        await db.pool.query<{ head: string }>(
          `SELECT max(position)::text AS head FROM ${events}`,
        )
      ).rows;
      // A handler counts its event before the batch commits: the projection's
      // time ends when its position reaches the last event, committed.
      const untilCommitted = async (consumer: string): Promise<void> => {
        for (;;) {
          const { rows } = await db.pool.query<{ done: boolean }>(
            `SELECT coalesce(min(position) >= $2::bigint, false) AS done FROM "${schema}".consumer_positions WHERE consumer = $1::text`,
            [consumer, head],
          );
          if (rows[0].done) return;
          await new Promise((r) => setTimeout(r, 1));
        }
      };

      // Both apps on NATS, as two microclients would be: the writer's commits
      // wake the consumer app through the relayed AppendSignal.
      const transport = {
        nats: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
        namespace: `bench${Date.now().toString(36)}`,
      };
      app = await createChronicleApp({
        client: db.client,
        schema,
        aggregates: [],
        providers: [
          NoopConsumer,
          RowPerEventProjection,
          IsolatedRowPerEventProjection,
          WakeupConsumer,
        ],
        transport,
      });
      writer = await createChronicleApp({
        client: db.client,
        schema,
        aggregates: [],
        transport,
      });
      const tracking = app.get(TrackingService);
      const store = app.get(EventStore) as PostgresEventStore;

      // The app started both catch-up consumers from the beginning: let that first run warm up.
      await until(
        () => counters.noop >= EVENTS && counters.projection >= EVENTS,
      );

      const rates = {
        noop: [] as number[],
        projection: [] as number[],
        isolated: [] as number[],
        raw: [] as number[],
        rawProjection: [] as number[],
      };
      for (let round = 0; round < ROUNDS; round++) {
        let t0 = performance.now();
        if ((await rawCursorRead()) !== EVENTS)
          throw new Error('tracking: the raw read did not see every event');
        rates.raw.push((EVENTS / (performance.now() - t0)) * 1000);

        counters.noop = 0;
        t0 = performance.now();
        await tracking.reset('bench-noop', { to: 'beginning' });
        await until(() => counters.noop >= EVENTS);
        rates.noop.push((EVENTS / (performance.now() - t0)) * 1000);

        t0 = performance.now();
        const projected = await rawProjection();
        if (projected !== EVENTS)
          throw new Error(
            `tracking: the raw projection saw ${projected} events, not ${EVENTS}`,
          );
        rates.rawProjection.push((EVENTS / (performance.now() - t0)) * 1000);

        counters.projection = 0;
        t0 = performance.now();
        await tracking.reset('bench-projection', { to: 'beginning' });
        await until(() => counters.projection >= EVENTS);
        await untilCommitted('bench-projection');
        rates.projection.push((EVENTS / (performance.now() - t0)) * 1000);

        counters.isolated = 0;
        t0 = performance.now();
        await tracking.reset('bench-projection-isolated', { to: 'beginning' });
        await until(() => counters.isolated >= EVENTS);
        await untilCommitted('bench-projection-isolated');
        rates.isolated.push((EVENTS / (performance.now() - t0)) * 1000);
      }
      // The handlers count an event before its batch commits: let the last
      // batch commit before checking that every row is there exactly once.
      for (const table of [counters.table, counters.isolatedTable, rawTable]) {
        const { rows } = await db.pool.query<{ n: string; distinct: string }>(
          `SELECT count(*) AS n, count(DISTINCT position) AS distinct FROM ${table}`,
        );
        if (Number(rows[0].n) !== EVENTS || Number(rows[0].distinct) !== EVENTS)
          throw new Error(
            `tracking: ${table} holds ${rows[0].n} rows (${rows[0].distinct} events), not ${EVENTS} once each`,
          );
      }

      // Wake-up: append one event, time until the consumer's handler runs;
      // from the consumer's own app, and from the other app over NATS.
      const wakeupLatencies = async (appender: PostgresEventStore) => {
        const latencies: number[] = [];
        for (let i = 0; i < WAKEUPS + 20; i++) {
          const received = new Promise<number>((resolve) => {
            wakeups.received = resolve;
          });
          const t0 = performance.now();
          await appender.append('bench.Account-wakeup', seedEnvelopes(1, 1));
          const at = await received;
          if (i >= 20) latencies.push(at - t0);
        }
        return latencies;
      };
      const latencies = await wakeupLatencies(store);
      const remote = await wakeupLatencies(
        writer.get(EventStore) as PostgresEventStore,
      );

      const raw = median(rates.raw);
      const noop = median(rates.noop);
      const projection = median(rates.projection);
      const isolated = median(rates.isolated);
      const rawProjected = median(rates.rawProjection);
      const baseline = { name: 'raw pg cursor read', value: raw };
      const fair = {
        name: 'raw pg: same batch read, per-row INSERT, position, 1 tx per batch',
        value: rawProjected,
      };
      const p50 = percentile(latencies, 50);
      return {
        rows: [
          row(
            `catch-up ${EVENTS.toLocaleString('en-US')} events, no-op consumer`,
            'events/s',
            noop,
            baseline,
          ),
          row(
            `catch-up ${EVENTS.toLocaleString('en-US')} events, projection row per event (exactly-once)`,
            'events/s',
            projection,
            fair,
          ),
          row(
            `catch-up ${EVENTS.toLocaleString('en-US')} events, projection row per event (exactly-once)`,
            'events/s',
            projection,
            baseline,
          ),
          row(
            `catch-up ${EVENTS.toLocaleString('en-US')} events, projection row per event, savepoints: 'every-event'`,
            'events/s',
            isolated,
            fair,
          ),
          row('wake-up append-to-handler, in process, p50', 'ms', p50),
          row(
            'wake-up append-to-handler, in process, p99',
            'ms',
            percentile(latencies, 99),
          ),
          row(
            'wake-up append-to-handler, from another app over NATS, p50',
            'ms',
            percentile(remote, 50),
          ),
          row(
            'wake-up append-to-handler, from another app over NATS, p99',
            'ms',
            percentile(remote, 99),
          ),
        ],
        notes: [
          `aim: no-op catch-up at least ${AIM_RATIO * 100}% of the raw read: ${noop / raw >= AIM_RATIO ? 'MET' : 'NOT MET'} (${Math.round((noop / raw) * 100)}%)`,
          `aim: exactly-once projection at least ${AIM_PROJECTION_RATIO * 100}% of raw pg doing the same batches: ${projection / rawProjected >= AIM_PROJECTION_RATIO ? 'MET' : 'NOT MET'} (${Math.round((projection / rawProjected) * 100)}%; one savepoint per event, as before: ${Math.round((isolated / rawProjected) * 100)}%)`,
          `projection rounds are timed from the reset to the commit of the last batch; afterwards every projection table is checked to hold each event once`,
          `aim: wake-up p50 under ${AIM_WAKEUP_P50_MS} ms: ${p50 < AIM_WAKEUP_P50_MS ? 'MET' : 'NOT MET'} (in process, one segment, batches of ${BATCH} for catch-up, medians of ${ROUNDS} rounds, ${WAKEUPS} wake-ups)`,
          `aim: an event reaches a consumer in another app in under 50 ms: ${percentile(remote, 99) < 50 ? 'MET' : 'NOT MET'} (p99 ${percentile(remote, 99).toFixed(1)} ms; the other app is a second Nest app with its own NATS connection in this process, woken by the AppendSignal relayed on chronicle.<ns>.events)`,
        ],
      };
    } finally {
      await writer?.close();
      await app?.close();
      await db.close();
    }
  },
};
