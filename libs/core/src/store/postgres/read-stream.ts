import type { ReadStreamOptions, StoredEvent } from '../event-store.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-row.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

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
      `SELECT ${EVENT_COLUMNS} FROM ${schema.events} e
       WHERE e.stream_id = $1::text AND e.stream_version >= $2::bigint AND e.stream_version <= $3::bigint
       ORDER BY e.stream_version LIMIT $4::int`,
      [streamId, next, last, batchSize],
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
    `SELECT coalesce(max(stream_version), 0)::text AS version FROM ${schema.events} WHERE stream_id = $1::text`,
    [streamId],
  );
  return Number(rows[0].version);
}
