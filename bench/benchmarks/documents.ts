import { performance } from 'node:perf_hooks';
import { Documents, type SqlParameter } from '@chronicle/core';
import {
  CUSTOMERS,
  OrderDocument,
  orderNumber,
} from '../domain/order-document.js';
import { BenchDatabase, randomSchemaName } from '../support/database.js';
import { compare, summaryOf } from '../support/measure.js';
import { row, type Row } from '../support/report.js';
import type { Benchmark, Settings } from './benchmark.js';

/*
 * Issue 21's benchmark: Documents beside the SQL a developer would write by
 * hand for the same table and indexes, in the same run. Indexing fills a
 * collection and a twin table made by hand; the searches run on the same
 * rows, Documents through its builder, the baseline as hand-written
 * statements on node-postgres.
 */

const DOCUMENTS = 100_000;
const QUICK_DOCUMENTS = 10_000;
const WRITERS = 8;
/** Issue 21: at least 0.8x of hand-written SQL. */
const AIM = 0.8;
const BASELINE = 'hand-written SQL on node-postgres (same table and indexes)';

const CUSTOMER = 'c-42';
const SINCE = '2025-06-01T00:00:00.000Z';
const UNTIL = '2025-06-30T23:59:59.999Z';

/** A twin of the collection's table, made by hand the way its declaration makes it. */
const twinDdl = (table: string) => `
  CREATE TABLE ${table} (
    id text PRIMARY KEY, revision integer NOT NULL, body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    search tsvector GENERATED ALWAYS AS (
      setweight(to_tsvector('english'::regconfig, coalesce(body #>> '{title}'::text[], '')), 'A') ||
      setweight(to_tsvector('english'::regconfig, coalesce(body #>> '{notes}'::text[], '')), 'B')) STORED);
  CREATE INDEX ON ${table} USING gin (search);
  CREATE INDEX ON ${table} ((body #> '{customerId}'::text[]), id);
  CREATE INDEX ON ${table} ((body #> '{status}'::text[]), id);
  CREATE INDEX ON ${table} ((body #> '{placedAt}'::text[]), id);`;

const upsertSql = (table: string) => `
  INSERT INTO ${table} AS d (id, revision, body) VALUES ($1, 1, $2::jsonb)
  ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, revision = d.revision + 1, updated_at = now()
  RETURNING revision`;

/** What each search is, by hand: the statement and its parameters. */
const handWritten = (table: string) => ({
  filtered: {
    text: `SELECT id, revision, body, created_at, updated_at FROM ${table}
      WHERE body #> '{customerId}' = $1::jsonb AND body #> '{status}' IN ($2::jsonb, $3::jsonb)
      ORDER BY body #> '{placedAt}' DESC, id DESC LIMIT 20`,
    params: [JSON.stringify(CUSTOMER), '"paid"', '"shipped"'],
  },
  text: {
    text: `SELECT id, revision, body, created_at, updated_at, ts_rank(search, q) AS rank
      FROM ${table}, websearch_to_tsquery('english', $1) q
      WHERE search @@ q ORDER BY rank DESC, id DESC LIMIT 20`,
    params: ['red shoes'],
  },
  facets: {
    text: `SELECT body #> '{status}' AS value, count(*)::int AS count FROM ${table}
      WHERE body #> '{placedAt}' >= $1::jsonb AND body #> '{placedAt}' <= $2::jsonb
      GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20`,
    params: [JSON.stringify(SINCE), JSON.stringify(UNTIL)],
  },
});

/** Indexes documents `from` to `to`, `WRITERS` at a time; the milliseconds it took. */
async function fill(
  from: number,
  to: number,
  write: (n: number) => Promise<unknown>,
): Promise<number> {
  let next = from;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < to) await write(next++);
    }),
  );
  return performance.now() - started;
}

/** Both fill in turns, a tenth at a time, so neither always writes into the bigger table. */
async function fillInTurns(
  count: number,
  ours: (n: number) => Promise<unknown>,
  theirs: (n: number) => Promise<unknown>,
): Promise<{ ours: number; theirs: number }> {
  const step = count / 10;
  let oursMs = 0;
  let theirsMs = 0;
  for (let from = 0; from < count; from += step) {
    oursMs += await fill(from, from + step, ours);
    theirsMs += await fill(from, from + step, theirs);
  }
  return {
    ours: (count / oursMs) * 1000,
    theirs: (count / theirsMs) * 1000,
  };
}

function timing(settings: Settings): Settings {
  return settings.quick
    ? { ...settings, rounds: 3, roundSeconds: 0.25, warmupSeconds: 0.25 }
    : { ...settings, rounds: 7, roundSeconds: 1 };
}

export const documentsBenchmark: Benchmark = {
  name: 'documents',
  description: `${DOCUMENTS.toLocaleString('en-US')} documents: indexing them, and a filtered search, a text search and a faceted count, with Documents vs ${BASELINE}`,
  async run(settings) {
    const db = new BenchDatabase();
    const count = settings.quick ? QUICK_DOCUMENTS : DOCUMENTS;
    const notes: string[] = [];
    const rows: Row[] = [];
    try {
      const schema = randomSchemaName('documents');
      const documents = new Documents(db.client, schema, [OrderDocument]);
      await documents.prepare();
      const [collection] = documents.collections();
      const twin = `"${schema}"."orders_by_hand"`;
      await db.pool.query(twinDdl(twin));
      await db.warmPool();

      // Indexing: in turns, 8 writers each.
      const upsert = upsertSql(twin);
      const { ours, theirs } = await fillInTurns(
        count,
        (n) => documents.index(OrderDocument, `o-${n}`, orderNumber(n)),
        (n) =>
          db.pool.query(upsert, [`o-${n}`, JSON.stringify(orderNumber(n))]),
      );
      rows.push(
        row(
          `index ${count.toLocaleString('en-US')} documents, ${WRITERS} writers`,
          'ops/s',
          ours,
          {
            name: BASELINE,
            value: theirs,
          },
        ),
      );
      await db.pool.query(`VACUUM ANALYZE ${collection.table}`);
      await db.pool.query(`VACUUM ANALYZE ${twin}`);

      // The searches, on the collection's rows: checked to find the same first.
      const byHand = handWritten(collection.table);
      const query = (s: { text: string; params: SqlParameter[] }) =>
        db.pool.query(s.text, s.params);
      const pageIds = (page: { items: readonly { id: string }[] }) =>
        page.items.map((i) => i.id).join();
      const rowIds = (result: { rows: { id: string }[] }) =>
        result.rows.map((r) => r.id).join();
      const searches: {
        name: string;
        ours: () => Promise<string>;
        theirs: () => Promise<string>;
      }[] = [
        {
          name: 'filtered search (customer, two statuses, newest first)',
          ours: async () =>
            pageIds(
              await documents
                .search(OrderDocument)
                .eq('customerId', CUSTOMER)
                .in('status', ['paid', 'shipped'])
                .sortBy('placedAt', 'desc')
                .limit(20)
                .page(),
            ),
          theirs: async () => rowIds(await query(byHand.filtered)),
        },
        {
          name: "text search ('red shoes', by rank)",
          ours: async () =>
            pageIds(
              await documents
                .search(OrderDocument)
                .match('red shoes')
                .limit(20)
                .page(),
            ),
          theirs: async () => rowIds(await query(byHand.text)),
        },
        {
          name: 'faceted count (status, one month)',
          ours: async () =>
            JSON.stringify(
              await documents
                .search(OrderDocument)
                .between('placedAt', new Date(SINCE), new Date(UNTIL))
                .facets('status'),
            ),
          theirs: async () => JSON.stringify((await query(byHand.facets)).rows),
        },
      ];
      const time = timing(settings);
      for (const search of searches) {
        const [a, b] = [await search.ours(), await search.theirs()];
        if (a !== b || a.length <= 2) {
          throw new Error(`documents: ${search.name} found ${a}, by hand ${b}`);
        }
        const summaries = await compare(
          [
            { name: 'documents', op: search.ours },
            { name: 'by hand', op: search.theirs },
          ],
          { ...time, concurrency: 1 },
        );
        const mine = summaryOf(summaries, 'documents');
        const hand = summaryOf(summaries, 'by hand');
        rows.push(
          row(`${search.name}, p50`, 'ms', mine.p50Ms, {
            name: BASELINE,
            value: hand.p50Ms,
          }),
          row(`${search.name}, p99`, 'ms', mine.p99Ms, {
            name: BASELINE,
            value: hand.p99Ms,
          }),
        );
      }
      const ratios = rows.map((r) => r.ratio ?? 1);
      notes.push(
        `${count.toLocaleString('en-US')} orders of ${CUSTOMERS.toLocaleString('en-US')} customers over a year; customer ${CUSTOMER} has ${count / CUSTOMERS} orders`,
        `aim >= ${AIM.toFixed(2)}x of hand-written SQL: ${ratios.every((r) => r >= AIM) ? 'MET' : 'NOT MET'} (${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')})`,
        'Documents reads each row into an OrderDocument instance (as message payloads are read) and checks every search; the hand-written statements return node-postgres rows',
      );
      return { rows, notes };
    } finally {
      await db.close();
    }
  },
};
