import {
  newMessageId,
  PostgresEventStore,
  type NewEvent,
} from '@chronicle/core';
import type pg from 'pg';
import { BenchDatabase } from '../support/database.js';
import { compare, summaryOf, type Contender } from '../support/measure.js';
import { row, type Row } from '../support/report.js';
import type { Benchmark } from './benchmark.js';

const CHRONICLE = 'Chronicle';
const BASELINE = 'raw pg INSERT';
const BATCH = 100;

/** `count` new events, built the same way for both sides. */
function newEvents(count: number): NewEvent[] {
  const correlationId = newMessageId();
  const timestamp = new Date();
  return Array.from({ length: count }, (_, i) => ({
    id: newMessageId(),
    type: 'bench.Deposited',
    revision: 1,
    payload: { amount: i + 1, reference: `ref-${i}`, note: 'benchmark' },
    metadata: { correlationId, user: 'bench' },
    timestamp,
  }));
}

/**
 * The floor for appending to a new stream: one multi-row INSERT of the same
 * rows, with the same JSON serialization of payload and metadata, returning
 * the positions. The version check is the cheapest honest one for a new
 * stream: versions 1..n and the (stream_id, stream_version) unique constraint.
 */
function rawAppend(pool: pg.Pool, table: string) {
  const sqlBySize = new Map<number, string>();
  const sqlFor = (n: number): string => {
    let sql = sqlBySize.get(n);
    if (!sql) {
      const tuples = Array.from({ length: n }, (_, i) => {
        const p = i * 8;
        return `($${p + 1}::uuid, $${p + 2}::text, $${p + 3}::bigint, $${p + 4}::text, $${p + 5}::int, $${p + 6}::jsonb, $${p + 7}::jsonb, $${p + 8}::timestamptz)`;
      });
      sql =
        `INSERT INTO ${table} (id, stream_id, stream_version, type, revision, payload, metadata, created_at) ` +
        `VALUES ${tuples.join(', ')} RETURNING position`;
      sqlBySize.set(n, sql);
    }
    return sql;
  };
  return async (streamId: string, events: readonly NewEvent[]) => {
    const params: (string | number)[] = [];
    events.forEach((e, i) => {
      params.push(
        e.id,
        streamId,
        i + 1,
        e.type,
        e.revision,
        JSON.stringify(e.payload),
        JSON.stringify(e.metadata),
        e.timestamp.toISOString(),
      );
    });
    const { rows } = await pool.query<{ position: string }>(
      sqlFor(events.length),
      params,
    );
    return rows.map((r) => BigInt(r.position));
  };
}

/** Every append of a run goes to a stream no append used before. */
let streams = 0;
const stream = () => `bench.Account-${++streams}`;

const GROUP_OFF = 'Chronicle, group commit off';
/** Callers appending at once in one process, for the scaling chart. */
const CALLERS = [1, 8, 64, 256] as const;

function contenders(
  store: PostgresEventStore,
  raw: ReturnType<typeof rawAppend>,
  eventsPerAppend: number,
): Contender[] {
  return [
    {
      name: CHRONICLE,
      op: () =>
        store.append(stream(), newEvents(eventsPerAppend), {
          expectedVersion: 'noStream',
        }),
    },
    { name: BASELINE, op: () => raw(stream(), newEvents(eventsPerAppend)) },
  ];
}

export const appendBenchmark: Benchmark = {
  name: 'append',
  description: `append to new streams: PostgresEventStore.append vs one raw pg INSERT`,
  async run(settings) {
    const db = new BenchDatabase();
    try {
      await db.warmPool();
      const store = await db.freshStore('append_chronicle');
      // The same schema, one statement per append: what group commit costs an idle store.
      const groupOff = new PostgresEventStore(
        store.client,
        store.schema,
        undefined,
        { groupCommit: false },
      );
      const other = await db.freshStore('append_raw');
      const raw = rawAppend(db.pool, other.schema.events);
      const rows: Row[] = [];
      const baseline = (value: number) => ({ name: BASELINE, value });

      const sequential = await compare(
        [
          ...contenders(store, raw, 1),
          {
            name: GROUP_OFF,
            op: () =>
              groupOff.append(stream(), newEvents(1), {
                expectedVersion: 'noStream',
              }),
          },
        ],
        { ...settings, concurrency: 1 },
      );
      const seqC = summaryOf(sequential, CHRONICLE);
      const seqB = summaryOf(sequential, BASELINE);
      const seqOff = summaryOf(sequential, GROUP_OFF);
      rows.push(
        row(
          'append 1 event, sequential',
          'ops/s',
          seqC.opsPerSecond,
          baseline(seqB.opsPerSecond),
        ),
        row(
          'append 1 event, sequential, p50',
          'ms',
          seqC.p50Ms,
          baseline(seqB.p50Ms),
        ),
        row(
          'append 1 event, sequential, p99',
          'ms',
          seqC.p99Ms,
          baseline(seqB.p99Ms),
        ),
        row(
          'append 1 event, sequential, p50, group commit on',
          'ms',
          seqC.p50Ms,
          { name: GROUP_OFF, value: seqOff.p50Ms },
        ),
      );

      // Each caller appends one event to a new stream; the baseline's callers
      // each send a single-row INSERT over a pool of the same size.
      for (const callers of CALLERS) {
        const measured =
          callers === 1
            ? sequential
            : await compare(contenders(store, raw, 1), {
                ...settings,
                concurrency: callers,
              });
        rows.push(
          row(
            `append 1 event, ${callers} concurrent`,
            'ops/s',
            summaryOf(measured, CHRONICLE).opsPerSecond,
            baseline(summaryOf(measured, BASELINE).opsPerSecond),
            { chart: 'append-callers', x: callers },
          ),
        );
      }

      const batch = await compare(contenders(store, raw, BATCH), {
        ...settings,
        concurrency: 1,
      });
      rows.push(
        row(
          `append ${BATCH}-event batch, sequential`,
          'events/s',
          summaryOf(batch, CHRONICLE).opsPerSecond * BATCH,
          baseline(summaryOf(batch, BASELINE).opsPerSecond * BATCH),
        ),
      );
      const stats = store.groupCommit?.stats;
      const notes = stats
        ? [
            `group commit: ${stats.units} appends in ${stats.statements} statements, ` +
              `at most ${stats.largestBatch} in one`,
          ]
        : [];
      return { rows, notes };
    } finally {
      await db.close();
    }
  },
};
