import { LOG_COLUMNS, logValues } from './append-sql.js';
import type { StoreSchema } from './store-schema.js';

/**
 * Appends the units of work of one group commit in ONE statement (outside any
 * transaction, so always the transaction's first write), each unit atomic on
 * its own:
 * - $1 is a JSON array with one array of events per unit, $2 one array of
 *   `{stream_id, expected}` per unit, $3 one command record (or null) per
 *   unit: a unit's number is its place in these arrays;
 * - every unit's expectations are checked for that unit; a unit whose check
 *   fails writes nothing, its neighbours go on;
 * - a unit's command record is inserted `ON CONFLICT DO NOTHING`, and its
 *   events only if the record went in (or it has none): a unit whose id was
 *   taken writes nothing, so it can get `CommandAlreadyHandledError`;
 * - $4 holds one message log row (or null) per unit, written only for an
 *   accepted unit, with the positions its events got (gathered per unit
 *   once, not looked up per row); the rows are read as `json`, not
 *   `jsonb`: each is taken apart once, so building a jsonb tree first is
 *   work thrown away;
 * - a batch holds at most one unit per stream and per command id (see
 *   group-commit.ts), so each stream's versions continue its current one.
 * A race lost to another process fails the whole statement with a unique
 * violation on (stream_id, stream_version); the caller runs it again.
 */
export const groupAppendSql = (s: StoreSchema) => `
WITH unit AS MATERIALIZED (
  SELECT u.ord::int AS unit, u.c->>'id' AS command_id, u.c->>'type' AS command_type,
         u.c->>'result' AS result, u.c->>'app' AS app
  FROM jsonb_array_elements($3::text::jsonb) WITH ORDINALITY AS u(c, ord)
),
expectation AS MATERIALIZED (
  SELECT u.ord::int AS unit, x.stream_id, x.expected,
         coalesce(l.stream_version, 0) AS current_version
  FROM jsonb_array_elements($2::text::jsonb) WITH ORDINALITY AS u(xs, ord)
  CROSS JOIN LATERAL jsonb_to_recordset(u.xs) AS x(stream_id text, expected text)
  LEFT JOIN LATERAL (
    SELECT e.stream_version FROM ${s.events} e
    WHERE e.stream_id = x.stream_id
    ORDER BY e.stream_version DESC LIMIT 1
  ) l ON true
),
verdict AS MATERIALIZED (
  SELECT u.unit, u.command_id,
         coalesce(bool_and(CASE x.expected
           WHEN 'any' THEN true
           WHEN 'noStream' THEN x.current_version = 0
           WHEN 'exists' THEN x.current_version > 0
           ELSE x.current_version = x.expected::bigint END), true) AS ok
  FROM unit u LEFT JOIN expectation x ON x.unit = u.unit
  GROUP BY u.unit, u.command_id
),
handled AS (
  INSERT INTO ${s.handledCommands} (command_id, command_type, result, app)
  SELECT u.command_id, u.command_type, u.result::json, u.app
  FROM unit u JOIN verdict v ON v.unit = u.unit
  WHERE v.ok AND u.command_id IS NOT NULL
  ORDER BY u.command_id
  ON CONFLICT (command_id) DO NOTHING
  RETURNING command_id
),
accepted AS MATERIALIZED (
  SELECT v.unit FROM verdict v
  WHERE v.ok
    AND (v.command_id IS NULL OR v.command_id IN (SELECT command_id FROM handled))
),
appended AS (
  INSERT INTO ${s.events}
    (id, stream_id, stream_version, type, revision, payload, metadata, created_at)
  SELECT (j.e->>'id')::uuid, x.stream_id,
         x.current_version + row_number() OVER (PARTITION BY x.stream_id ORDER BY u.ord, j.ord),
         j.e->>'type', (j.e->>'revision')::integer, j.e->'payload', j.e->'metadata',
         (j.e->>'timestamp')::timestamptz
  FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS u(es, ord)
  CROSS JOIN LATERAL jsonb_array_elements(u.es) WITH ORDINALITY AS j(e, ord)
  JOIN expectation x ON x.unit = u.ord AND x.stream_id = j.e->>'streamId'
  WHERE u.ord IN (SELECT unit FROM accepted)
  ORDER BY u.ord, j.ord
  RETURNING position, stream_id, stream_version, transaction_id
),
unit_positions AS (
  SELECT x.unit, array_agg(a.position ORDER BY a.position) AS positions
  FROM appended a JOIN expectation x ON x.stream_id = a.stream_id
  GROUP BY x.unit
),
logged AS (
  INSERT INTO ${s.messageLog} (${LOG_COLUMNS}, positions)
  SELECT ${logValues('r')}, p.positions
  FROM json_array_elements($4::text::json) WITH ORDINALITY AS l(row, ord)
  CROSS JOIN LATERAL json_populate_record(NULL::${s.messageLog}, l.row) r
  LEFT JOIN unit_positions p ON p.unit = l.ord
  WHERE json_typeof(l.row) = 'object'
    AND l.ord IN (SELECT unit FROM accepted)
)
SELECT v.unit, v.ok, (a.unit IS NOT NULL) AS accepted,
       x.stream_id, x.expected, x.current_version::text AS current_version,
       s.positions, s.last_version::text AS last_version, s.transaction_id
FROM verdict v
LEFT JOIN accepted a ON a.unit = v.unit
LEFT JOIN expectation x ON x.unit = v.unit
LEFT JOIN (
  SELECT stream_id, max(stream_version) AS last_version,
         array_agg(position::text ORDER BY stream_version) AS positions,
         max(transaction_id::text) AS transaction_id
  FROM appended GROUP BY stream_id
) s ON s.stream_id = x.stream_id`;

/** One row per (unit, stream); one row with no stream for a unit without streams. */
export interface GroupAppendRow {
  unit: number;
  ok: boolean;
  accepted: boolean;
  stream_id: string | null;
  expected: string | null;
  current_version: string | null;
  positions: string[] | null;
  last_version: string | null;
  transaction_id: string | null;
}
