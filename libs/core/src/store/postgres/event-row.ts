import type { MessageMetadata } from '../../messages/index.js';
import type { StoredEvent } from '../event-store.js';

/** The columns every read selects; big numbers come as text so both drivers agree. */
// Reads alias the table as `e` and must ORDER BY `e.column`: the text aliases
// here would otherwise win, and sort "10" before "2".
export const EVENT_COLUMNS = `e.position::text AS position, e.id::text AS id, e.stream_id,
  e.stream_version::text AS stream_version, e.type, e.revision, e.payload, e.metadata,
  (extract(epoch FROM e.created_at) * 1000)::float8 AS created_ms,
  e.transaction_id::text AS transaction_id`;

export interface EventRow {
  position: string;
  id: string;
  stream_id: string;
  stream_version: string;
  type: string;
  revision: number;
  payload: Record<string, unknown>;
  metadata: MessageMetadata;
  /** Epoch milliseconds: far cheaper for the drivers than parsing a timestamp. */
  created_ms: number;
  transaction_id: string;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    revision: row.revision,
    payload: row.payload,
    metadata: row.metadata,
    timestamp: new Date(row.created_ms),
    streamId: row.stream_id,
    streamVersion: Number(row.stream_version),
    position: BigInt(row.position),
    transactionId: BigInt(row.transaction_id),
  };
}
