import type { StoreSchema } from './store-schema.js';

/** The message log's columns an append fills from its JSON row (all but `positions`). */
export const LOG_COLUMNS =
  'kind, logged_at, id, type, revision, payload, metadata, correlation_id, ' +
  'causation_id, app, instance, sender_app, finished_at, duration_ms, outcome, ' +
  'result, error, error_code, streams';

/**
 * The same columns read from a record `r` made by `json_populate_record`
 * (from `json`, not `jsonb`: the row is taken apart once, so parsing it into
 * a jsonb tree first is work thrown away; its jsonb columns are parsed as such).
 */
export const logValues = (r: string): string =>
  LOG_COLUMNS.split(', ')
    .map((c) =>
      c === 'metadata' ? `coalesce(${r}.metadata, '{}')` : `${r}.${c}`,
    )
    .join(', ');

/**
 * Appends to any number of streams in ONE statement, so one round trip:
 * - every stream's version is checked against its expectation inside the
 *   database, and nothing is written unless all hold;
 * - the events insert must be the transaction's first write: a transaction
 *   gets its id at its first write, and the log is ordered by that id, so an
 *   append after another write could order a stream's later version before
 *   its earlier one. `pg_current_xact_id_if_assigned()` is NULL until then;
 *   once the store has appended in this transaction ($7), a further append is
 *   accepted as long as no stream it writes holds a row of a later transaction;
 * - the handled command, if any, is recorded in the same statement, so its
 *   result and the events commit together or not at all; so is its message
 *   log row ($8), with the positions the events got.
 * A race lost between check and insert surfaces as a unique violation on
 * (stream_id, stream_version); the caller runs the statement again.
 */
export const appendSql = (s: StoreSchema) => `
WITH tx AS MATERIALIZED (
  SELECT pg_current_xact_id_if_assigned() AS xid
),
expectation AS (
  SELECT x.stream_id, x.expected,
         coalesce(l.stream_version, 0) AS current_version,
         l.transaction_id AS last_transaction_id
  FROM jsonb_to_recordset($2::text::jsonb) AS x(stream_id text, expected text)
  LEFT JOIN LATERAL (
    SELECT e.stream_version, e.transaction_id FROM ${s.events} e
    WHERE e.stream_id = x.stream_id
    ORDER BY e.stream_version DESC LIMIT 1
  ) l ON true
),
verdict AS (
  SELECT coalesce(bool_and(CASE x.expected
           WHEN 'any' THEN true
           WHEN 'noStream' THEN x.current_version = 0
           WHEN 'exists' THEN x.current_version > 0
           ELSE x.current_version = x.expected::bigint END), true) AS ok,
         ((SELECT xid FROM tx) IS NULL OR $7::boolean) AS first_write,
         coalesce(bool_and(x.last_transaction_id IS NULL
           OR (SELECT xid FROM tx) IS NULL
           OR x.last_transaction_id <= (SELECT xid FROM tx)), true) AS in_order
  FROM expectation x
),
accepted AS (
  SELECT ok AND first_write AND in_order AS yes FROM verdict
),
appended AS (
  INSERT INTO ${s.events}
    (id, stream_id, stream_version, type, revision, payload, metadata, created_at)
  SELECT (j.e->>'id')::uuid, x.stream_id,
         x.current_version + row_number() OVER (PARTITION BY x.stream_id ORDER BY j.ord),
         j.e->>'type', (j.e->>'revision')::integer, j.e->'payload', j.e->'metadata',
         (j.e->>'timestamp')::timestamptz
  FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS j(e, ord)
  JOIN expectation x ON x.stream_id = j.e->>'streamId'
  WHERE (SELECT yes FROM accepted)
  ORDER BY j.ord
  RETURNING position, stream_id, stream_version, transaction_id
),
handled AS (
  INSERT INTO ${s.handledCommands} (command_id, command_type, result, app)
  SELECT $3::text, $4::text, $5::text::json, $6::text
  WHERE $3::text IS NOT NULL AND (SELECT yes FROM accepted)
  RETURNING command_id
),
logged AS (
  INSERT INTO ${s.messageLog} (${LOG_COLUMNS}, positions)
  SELECT ${logValues('r')},
         (SELECT array_agg(a.position ORDER BY a.position) FROM appended a)
  FROM json_populate_record(NULL::${s.messageLog}, $8::text::json) r
  WHERE $8::text IS NOT NULL AND (SELECT yes FROM accepted)
)
SELECT v.ok, v.first_write, v.in_order, (SELECT xid FROM tx)::text AS xid,
       (SELECT count(*) FROM handled)::int AS handled,
       x.stream_id, x.expected, x.current_version::text AS current_version,
       x.last_transaction_id::text AS last_transaction_id,
       a.positions, a.last_version::text AS last_version, a.transaction_id
FROM verdict v
LEFT JOIN expectation x ON true
LEFT JOIN (
  SELECT stream_id, max(stream_version) AS last_version,
         array_agg(position::text ORDER BY stream_version) AS positions,
         max(transaction_id::text) AS transaction_id
  FROM appended GROUP BY stream_id
) a ON a.stream_id = x.stream_id`;

/** One row per stream of the append (one row with no stream for a record-only append). */
export interface AppendRow {
  ok: boolean;
  first_write: boolean;
  in_order: boolean;
  /** The transaction's id before the statement, if it had one. */
  xid: string | null;
  handled: number;
  stream_id: string | null;
  expected: string | null;
  current_version: string | null;
  last_transaction_id: string | null;
  positions: string[] | null;
  last_version: string | null;
  transaction_id: string | null;
}
