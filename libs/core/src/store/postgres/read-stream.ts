import type { ReadStreamOptions, StoredEvent } from '../event-store.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-row.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

const readStreamSql = (s: StoreSchema) => `
  SELECT ${EVENT_COLUMNS} FROM ${s.events} e
  WHERE e.stream_id = $1::text AND e.stream_version >= $2::bigint AND e.stream_version <= $3::bigint
  ORDER BY e.stream_version LIMIT $4::int`;

const streamVersionSql = (s: StoreSchema) => `
  SELECT coalesce(max(stream_version), 0)::text AS version FROM ${s.events} WHERE stream_id = $1::text`;

/** Reads one stream in version order, a batch per round trip, walking the unique index. */
export async function* readStream(
  client: SqlClient,
  schema: StoreSchema,
  streamId: string,
  options: ReadStreamOptions = {},
): AsyncGenerator<StoredEvent> {
  const batchSize = options.batchSize ?? 1000;
  const last = options.toVersion ?? Number.MAX_SAFE_INTEGER;
  let next = options.fromVersion ?? 1;
  while (next <= last) {
    const rows = await client.query<EventRow>(
      schema.sql(readStreamSql),
      [streamId, next, last, batchSize],
      { prepare: true },
    );
    for (const row of rows) yield toStoredEvent(row);
    if (rows.length < batchSize) return;
    next = Number(rows[rows.length - 1].stream_version) + 1;
  }
}

export async function streamVersion(
  client: SqlClient,
  schema: StoreSchema,
  streamId: string,
): Promise<number> {
  const rows = await client.query<{ version: string }>(
    schema.sql(streamVersionSql),
    [streamId],
    { prepare: true },
  );
  return Number(rows[0].version);
}
