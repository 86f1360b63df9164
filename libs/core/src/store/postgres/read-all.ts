import type {
  Checkpoint,
  LogHead,
  ReadAllBatch,
  ReadAllOptions,
} from '../event-store.js';
import { LOG_START } from '../event-store.js';
import type { PayloadCipher } from '../payload-cipher.js';
import {
  describeRow,
  EVENT_COLUMNS,
  EventDecoder,
  type EventRow,
} from './event-row.js';
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

/**
 * Whether the segment row `p` (of consumer_positions) reads events of
 * `streamId`: the stream's own segment, or every segment of a consumer
 * sequenced by a key of its own (each reads every event, handles its keys).
 */
export const segmentReads = (streamId: string, p: string) =>
  `(${p}.sequenced_by = 'key' OR ${segmentOf(streamId, `${p}.segment_count`)} = ${p}.segment)`;

/*
 * One statement, one snapshot. The read scans a window: the next `limit`
 * events of the log in (transaction_id, position) order, below the horizon,
 * whatever their type or segment; the filters then pick from that window. So
 * every read costs at most one ordered index range of `limit` rows, however
 * the planner misjudges the filters (it cannot estimate the horizon or the
 * segment hash, and once chose to sort the whole rest of the log per batch).
 * The checkpoint moves to the window's last event, matching or not: a consumer
 * of a rare type does not scan the same unrelated events again.
 */
const readAllSql = (s: StoreSchema) => `
  WITH scanned AS MATERIALIZED (
    SELECT ${EVENT_COLUMNS}, e.transaction_id AS order_tx, e.position AS order_position
    FROM ${s.events} e
    WHERE (e.transaction_id, e.position) > ($1::text::xid8, $2::bigint)
      AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.transaction_id, e.position
    LIMIT $3::int),
  window_end AS (
    SELECT order_tx::text AS end_transaction_id, order_position::text AS end_position,
      count(*) OVER ()::int AS scanned_count
    FROM scanned
    ORDER BY order_tx DESC, order_position DESC LIMIT 1),
  matching AS (
    SELECT * FROM scanned m
    WHERE ($6::text IS NULL OR m.type = ANY ($6::text::text[]))
      AND ($4::int IS NULL OR ${segmentOf('m.stream_id', '$4::int')} = $5::int))
  SELECT m.*, w.scanned_count, w.end_transaction_id, w.end_position
  FROM window_end w LEFT JOIN matching m ON true
  ORDER BY m.order_tx, m.order_position`;

/** A text[] literal: each element quoted, its quotes and backslashes escaped. */
export function textArray(values: readonly string[]): string {
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

// The head and the snapshot it was read under, in one statement: the snapshot
// says which transactions above the horizon had already committed.
const logHeadSql = (s: StoreSchema) => `
  SELECT pg_current_snapshot()::text AS snapshot, h.transaction_id, h.position
  FROM (SELECT 1) one LEFT JOIN (${headCheckpointSql(s)}) h ON true`;

interface ReadAllRow extends EventRow {
  scanned_count: number;
  end_transaction_id: string | null;
  end_position: string | null;
}

export async function readAll(
  client: SqlClient,
  schema: StoreSchema,
  options: ReadAllOptions = {},
  cipher?: PayloadCipher,
): Promise<ReadAllBatch> {
  const after = options.after ?? LOG_START;
  const limit = options.limit ?? 1000;
  const rows = await client.query<ReadAllRow>(
    schema.sql(readAllSql),
    [
      after.transactionId.toString(),
      after.position.toString(),
      limit,
      options.segment?.count ?? null,
      options.segment?.index ?? null,
      options.types ? textArray(options.types) : null,
    ],
    { prepare: true },
  );
  const decoder = new EventDecoder();
  const read = rows.filter((r) => r.head !== null);
  const opening = cipher?.open(read, client, (i) => describeRow(read[i]));
  if (opening) await opening;
  const events = read.map((r) => decoder.decode(r));
  const window = rows[0];
  const scanned = window?.scanned_count ?? 0;
  const checkpoint =
    scanned > 0 && window.end_transaction_id && window.end_position
      ? {
          transactionId: BigInt(window.end_transaction_id),
          position: BigInt(window.end_position),
        }
      : after;
  // A window shorter than its limit reached the newest readable event.
  return { events, checkpoint, caughtUp: scanned < limit };
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

export async function logHead(
  client: SqlClient,
  schema: StoreSchema,
): Promise<LogHead> {
  const rows = await client.query<{
    snapshot: string;
    transaction_id: string | null;
    position: string | null;
  }>(schema.sql(logHeadSql), [], { prepare: true });
  const row = rows[0];
  const checkpoint =
    row.transaction_id !== null && row.position !== null
      ? {
          transactionId: BigInt(row.transaction_id),
          position: BigInt(row.position),
        }
      : LOG_START;
  return { checkpoint, committedBefore: committedIn(row.snapshot) };
}

/**
 * Whether a transaction had committed in a snapshot written as
 * `xmin:xmax:running,...` (PostgreSQL's pg_snapshot text): every id below
 * xmin had ended, none from xmax on had started, and between the two those
 * not listed as running had ended. An aborted transaction left no events.
 */
export function committedIn(
  snapshot: string,
): (transactionId: bigint) => boolean {
  const [xmin, xmax, running = ''] = snapshot.split(':');
  const low = BigInt(xmin);
  const high = BigInt(xmax);
  const open = new Set(running === '' ? [] : running.split(',').map(BigInt));
  return (transactionId) =>
    transactionId < low || (transactionId < high && !open.has(transactionId));
}
