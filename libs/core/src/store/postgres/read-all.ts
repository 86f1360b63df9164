import type {
  Checkpoint,
  ReadAllBatch,
  ReadAllOptions,
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

const readAllSql = (s: StoreSchema) => `
  SELECT ${EVENT_COLUMNS} FROM ${s.events} e
  WHERE (e.transaction_id, e.position) > ($1::text::xid8, $2::bigint)
    AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    AND ($4::text IS NULL OR e.type IN (SELECT jsonb_array_elements_text($4::text::jsonb)))
    AND ($5::int IS NULL OR ${segmentOf('e.stream_id', '$5::int')} = $6::int)
  ORDER BY e.transaction_id, e.position
  LIMIT $3::int`;

const headCheckpointSql = (s: StoreSchema) => `
  SELECT e.transaction_id::text AS transaction_id, e.position::text AS position
  FROM ${s.events} e
  WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1`;

export async function readAll(
  client: SqlClient,
  schema: StoreSchema,
  options: ReadAllOptions = {},
): Promise<ReadAllBatch> {
  const after = options.after ?? LOG_START;
  const types = options.types ? JSON.stringify(options.types) : null;
  const rows = await client.query<EventRow>(
    schema.sql(readAllSql),
    [
      after.transactionId.toString(),
      after.position.toString(),
      options.limit ?? 1000,
      types,
      options.segment?.count ?? null,
      options.segment?.index ?? null,
    ],
    { prepare: true },
  );
  const events = rows.map(toStoredEvent);
  const last = events[events.length - 1];
  return {
    events,
    checkpoint: last
      ? { transactionId: last.transactionId, position: last.position }
      : after,
  };
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
