import type {
  Checkpoint,
  ReadAllBatch,
  ReadAllOptions,
  StoredEvent,
} from '../event-store.js';
import { LOG_START } from '../event-store.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-row.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

/*
 * The safe read of the whole log. Positions come from a sequence, so a
 * transaction can take position 10, commit after another one took and
 * committed 11, and a reader that had moved past 11 would skip 10 for ever.
 * Instead we return only rows written by transactions older than the oldest
 * one still running (pg_snapshot_xmin): all of those have ended, so nothing can
 * appear before them any more. Rows are ordered and checkpointed by
 * (transaction_id, position). The price: one long-running writing transaction
 * anywhere on the server holds every reader back until it ends.
 */

/**
 * The segment of a stream among `count`: stable across processes, versions
 * and drivers (hashtext is PostgreSQL's own text hash). Widened to bigint
 * first, as abs() of the smallest int4 overflows.
 */
export const segmentOf = (streamId: string, count: string) =>
  `(abs(hashtext(${streamId})::bigint) % ${count})::int`;

/*
 * One statement, one snapshot: the batch, and the newest event below the
 * horizon (the head). A batch shorter than its limit has scanned the whole log
 * up to the head, matching or not, so its checkpoint moves there: a consumer
 * of a rare type does not scan the same unrelated events on every poll.
 * Filtered by type, the types are a literal array planned with their values
 * (so the planner can pick the (type, transaction_id, position) index for a
 * rare type); that statement is not prepared, lest a generic plan forget them.
 */
const readAllStatement = (typeFilter: string) => (s: StoreSchema) => `
  WITH matching AS (
    SELECT ${EVENT_COLUMNS}, e.transaction_id AS order_tx, e.position AS order_position
    FROM ${s.events} e
    WHERE (e.transaction_id, e.position) > ($1::text::xid8, $2::bigint)
      AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
      ${typeFilter}
      AND ($4::int IS NULL OR ${segmentOf('e.stream_id', '$4::int')} = $5::int)
    ORDER BY e.transaction_id, e.position
    LIMIT $3::int),
  head AS (
    SELECT e.transaction_id::text AS head_transaction_id, e.position::text AS head_position
    FROM ${s.events} e
    WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1)
  SELECT m.*, head.* FROM (SELECT 1) one
  LEFT JOIN head ON true LEFT JOIN matching m ON true
  ORDER BY m.order_tx, m.order_position`;

const readAllSql = readAllStatement('');
const readAllOfTypesSql = readAllStatement(
  'AND e.type = ANY ($6::text::text[])',
);

/** A text[] literal: each element quoted, its quotes and backslashes escaped. */
function textArray(values: readonly string[]): string {
  const quoted = values.map(
    (v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
  );
  return `{${quoted.join(',')}}`;
}

const headCheckpointSql = (s: StoreSchema) => `
  SELECT e.transaction_id::text AS transaction_id, e.position::text AS position
  FROM ${s.events} e
  WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1`;

interface ReadAllRow extends EventRow {
  head_transaction_id: string | null;
  head_position: string | null;
}

export async function readAll(
  client: SqlClient,
  schema: StoreSchema,
  options: ReadAllOptions = {},
): Promise<ReadAllBatch> {
  const after = options.after ?? LOG_START;
  const limit = options.limit ?? 1000;
  const typed = options.types !== undefined;
  const parameters = [
    after.transactionId.toString(),
    after.position.toString(),
    limit,
    options.segment?.count ?? null,
    options.segment?.index ?? null,
  ];
  const rows = await client.query<ReadAllRow>(
    schema.sql(typed ? readAllOfTypesSql : readAllSql),
    typed ? [...parameters, textArray(options.types ?? [])] : parameters,
    { prepare: !typed },
  );
  const events = rows.filter((r) => r.position !== null).map(toStoredEvent);
  const last = events[events.length - 1];
  if (events.length >= limit) return { events, checkpoint: checkpointOf(last) };
  const head = rows[0]?.head_transaction_id
    ? {
        transactionId: BigInt(rows[0].head_transaction_id),
        position: BigInt(rows[0].head_position ?? '0'),
      }
    : LOG_START;
  // Never backwards: a checkpoint already past the head stays where it is.
  return { events, checkpoint: later(after, head) };
}

function checkpointOf(event: StoredEvent): Checkpoint {
  return { transactionId: event.transactionId, position: event.position };
}

function later(a: Checkpoint, b: Checkpoint): Checkpoint {
  if (a.transactionId !== b.transactionId)
    return a.transactionId > b.transactionId ? a : b;
  return a.position >= b.position ? a : b;
}

export async function headCheckpoint(
  client: SqlClient,
  schema: StoreSchema,
): Promise<Checkpoint> {
  const rows = await client.query<{ transaction_id: string; position: string }>(
    schema.sql(headCheckpointSql),
    [],
    { prepare: true },
  );
  if (rows.length === 0) return LOG_START;
  return {
    transactionId: BigInt(rows[0].transaction_id),
    position: BigInt(rows[0].position),
  };
}
