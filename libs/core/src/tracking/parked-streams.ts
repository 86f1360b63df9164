import {
  segmentOf,
  type Checkpoint,
  type SqlClient,
  type StoredEvent,
  type StoreSchema,
} from '../store/index.js';

// The SQL of parked_streams and parked_events (the `park` policy), one
// function per statement. The stream row is the truth of "this stream is
// parked": whoever parks behind it, retries or drops it locks that row first,
// so a drop from another process and the owner's batch serialize on it.

const streams = (s: StoreSchema) => s.table('parked_streams');
const events = (s: StoreSchema) => s.table('parked_events');

/**
 * The streams of one segment parked for a consumer; `requested`: those with a
 * retry asked for. A stream is the segment's that parked it (rows from before
 * migration 17 name none: their stream's hash says).
 */
export async function parkedStreamsOfSegment(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  segment: number,
  count: number,
): Promise<{ stream: string; requested: boolean }[]> {
  const rows = await client.query<{ stream_id: string; requested: boolean }>(
    `SELECT stream_id, retry_requested_at IS NOT NULL AS requested FROM ${streams(s)}
     WHERE consumer = $1::text AND coalesce(segment, ${segmentOf('stream_id', '$3::int')}) = $2::int
     ORDER BY parked_at, stream_id`,
    [consumer, segment, count],
  );
  return rows.map((r) => ({ stream: r.stream_id, requested: r.requested }));
}

/** Parks a stream at its failing event: the stream row, then the event's. */
export async function parkStream(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  segment: number,
  event: StoredEvent,
  error: string,
  attempts: number,
): Promise<void> {
  await client.query(
    `INSERT INTO ${streams(s)} (consumer, stream_id, error, attempts, segment)
     VALUES ($1::text, $2::text, $3::text, $4::int, $5::int) ON CONFLICT (consumer, stream_id) DO NOTHING`,
    [consumer, event.streamId, error, attempts, segment],
  );
  await parkBehind(client, s, consumer, event);
}

/**
 * Parks a later event of a parked stream, if the stream is still parked
 * (its row locked until the batch commits, so a concurrent drop waits, then
 * takes this event with it); false when it is not parked any more.
 */
export async function parkBehind(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  event: StoredEvent,
): Promise<boolean> {
  const rows = await client.query(
    `WITH parked AS (
       SELECT consumer, stream_id FROM ${streams(s)}
       WHERE consumer = $1::text AND stream_id = $2::text FOR SHARE)
     INSERT INTO ${events(s)} (consumer, stream_id, stream_version, event_position, event_id, event_type)
     SELECT consumer, stream_id, $3::bigint, $4::bigint, $5::uuid, $6::text FROM parked
     ON CONFLICT DO NOTHING
     RETURNING stream_version`,
    [
      consumer,
      event.streamId,
      event.streamVersion,
      event.position.toString(),
      event.id,
      event.type,
    ],
  );
  if (rows.length === 1) return true;
  // Already parked (the batch ran again after a rollback it did not see): still parked.
  const still = await client.query(
    `SELECT 1 FROM ${events(s)} WHERE consumer = $1::text AND stream_id = $2::text AND stream_version = $3::bigint`,
    [consumer, event.streamId, event.streamVersion],
  );
  return still.length === 1;
}

/** One parked event: where to find it in the log. */
export interface ParkedEventRow {
  readonly version: number;
  readonly position: bigint;
}

/** The events parked on a stream, in stream order. */
export async function parkedEventsOf(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream: string,
): Promise<ParkedEventRow[]> {
  const rows = await client.query<{ version: string; position: string }>(
    `SELECT stream_version::text AS version, event_position::text AS position FROM ${events(s)}
     WHERE consumer = $1::text AND stream_id = $2::text ORDER BY stream_version`,
    [consumer, stream],
  );
  return rows.map((r) => ({
    version: Number(r.version),
    position: BigInt(r.position),
  }));
}

/** Locks a parked stream's row for a retry step; false when it was dropped meanwhile. */
export async function lockParkedStream(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream: string,
): Promise<boolean> {
  const rows = await client.query(
    `SELECT 1 FROM ${streams(s)} WHERE consumer = $1::text AND stream_id = $2::text FOR UPDATE`,
    [consumer, stream],
  );
  return rows.length === 1;
}

/**
 * Removes one parked event after its handler ran (same transaction), and the
 * stream's row with its last event. Returns whether the stream is unparked.
 */
export async function unparkEvent(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream: string,
  version: number,
): Promise<{ removed: boolean; unparked: boolean }> {
  const removed = await client.query(
    `DELETE FROM ${events(s)} WHERE consumer = $1::text AND stream_id = $2::text AND stream_version = $3::bigint
     RETURNING stream_version`,
    [consumer, stream, version],
  );
  const unparked = await client.query(
    `DELETE FROM ${streams(s)} p WHERE consumer = $1::text AND stream_id = $2::text
       AND NOT EXISTS (SELECT 1 FROM ${events(s)} e WHERE e.consumer = p.consumer AND e.stream_id = p.stream_id)
     RETURNING stream_id`,
    [consumer, stream],
  );
  return { removed: removed.length === 1, unparked: unparked.length === 1 };
}

/**
 * A retry failed: the new error, the attempts of the stream's first parked
 * event (one more when it is the event that failed before, else its first),
 * and the request answered.
 */
export async function recordRetryFailure(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream: string,
  error: string,
  sameEvent: boolean,
): Promise<void> {
  await client.query(
    `UPDATE ${streams(s)} SET error = $3::text, failed_at = now(), retry_requested_at = NULL,
       attempts = CASE WHEN $4::boolean THEN attempts + 1 ELSE 1 END
     WHERE consumer = $1::text AND stream_id = $2::text`,
    [consumer, stream, error, sameEvent],
  );
}

/** Answers a retry request that found nothing to do (the stream was dropped, say). */
export async function clearRetryRequest(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream: string,
): Promise<void> {
  await client.query(
    `UPDATE ${streams(s)} SET retry_requested_at = NULL WHERE consumer = $1::text AND stream_id = $2::text`,
    [consumer, stream],
  );
}

/** A parked stream as listed: its first parked event, how many, the last error. */
export interface ParkedStreamRow {
  readonly stream: string;
  readonly firstEvent: {
    readonly id: string;
    readonly type: string;
    readonly position: bigint;
    readonly streamVersion: number;
  };
  readonly events: number;
  readonly error: string;
  readonly attempts: number;
  readonly parkedAt: Date;
  readonly failedAt: Date;
  readonly retryRequestedAt: Date | null;
}

interface RawParkedStream {
  stream_id: string;
  event_id: string;
  event_type: string;
  position: string;
  version: string;
  events: number;
  error: string;
  attempts: number;
  parked_ms: number;
  failed_ms: number;
  requested_ms: number | null;
}

/** A consumer's parked streams (or one), the longest parked first. */
export async function listParkedStreams(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream?: string,
): Promise<ParkedStreamRow[]> {
  const rows = await client.query<RawParkedStream>(
    `SELECT p.stream_id, f.event_id::text AS event_id, f.event_type, f.event_position::text AS position,
       f.stream_version::text AS version, n.events, p.error, p.attempts,
       (extract(epoch FROM p.parked_at) * 1000)::float8 AS parked_ms,
       (extract(epoch FROM p.failed_at) * 1000)::float8 AS failed_ms,
       (extract(epoch FROM p.retry_requested_at) * 1000)::float8 AS requested_ms
     FROM ${streams(s)} p
     CROSS JOIN LATERAL (
       SELECT e.event_id, e.event_type, e.event_position, e.stream_version FROM ${events(s)} e
       WHERE e.consumer = p.consumer AND e.stream_id = p.stream_id
       ORDER BY e.stream_version LIMIT 1) f
     CROSS JOIN LATERAL (
       SELECT count(*)::int AS events FROM ${events(s)} e
       WHERE e.consumer = p.consumer AND e.stream_id = p.stream_id) n
     WHERE p.consumer = $1::text AND ($2::text IS NULL OR p.stream_id = $2::text)
     ORDER BY p.parked_at, p.stream_id`,
    [consumer, stream ?? null],
  );
  return rows.map((r) => ({
    stream: r.stream_id,
    firstEvent: {
      id: r.event_id,
      type: r.event_type,
      position: BigInt(r.position),
      streamVersion: Number(r.version),
    },
    events: Number(r.events),
    error: r.error,
    attempts: Number(r.attempts),
    parkedAt: new Date(Number(r.parked_ms)),
    failedAt: new Date(Number(r.failed_ms)),
    retryRequestedAt:
      r.requested_ms === null ? null : new Date(Number(r.requested_ms)),
  }));
}

/** Asks the owners to retry a consumer's parked streams (or one); returns the streams asked. */
export async function requestRetry(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream?: string,
): Promise<string[]> {
  const rows = await client.query<{ stream_id: string }>(
    `UPDATE ${streams(s)} SET retry_requested_at = now()
     WHERE consumer = $1::text AND ($2::text IS NULL OR stream_id = $2::text)
     RETURNING stream_id`,
    [consumer, stream ?? null],
  );
  return rows.map((r) => r.stream_id).sort();
}

/** The state of streams a retry was asked for: gone when unparked. */
export async function retryState(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream: readonly string[],
): Promise<Map<string, { requested: boolean; events: number }>> {
  const rows = await client.query<{
    stream_id: string;
    requested: boolean;
    events: number;
  }>(
    `SELECT p.stream_id, p.retry_requested_at IS NOT NULL AS requested,
       (SELECT count(*)::int FROM ${events(s)} e WHERE e.consumer = p.consumer AND e.stream_id = p.stream_id) AS events
     FROM ${streams(s)} p
     WHERE p.consumer = $1::text AND p.stream_id IN (SELECT jsonb_array_elements_text($2::text::jsonb))`,
    [consumer, JSON.stringify(stream)],
  );
  return new Map(
    rows.map((r) => [
      r.stream_id,
      { requested: r.requested, events: Number(r.events) },
    ]),
  );
}

/**
 * Drops a consumer's parked streams (or one): the stream rows first (so a
 * batch parking behind one finishes first), their events with them.
 * Returns each stream dropped and how many events it held.
 */
export async function dropParkedStreams(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream?: string,
): Promise<{ stream: string; events: number }[]> {
  const rows = await client.query<{ stream_id: string; events: number }>(
    `WITH gone AS (
       DELETE FROM ${streams(s)} WHERE consumer = $1::text AND ($2::text IS NULL OR stream_id = $2::text)
       RETURNING consumer, stream_id)
     SELECT g.stream_id,
       (SELECT count(*)::int FROM ${events(s)} e WHERE e.consumer = g.consumer AND e.stream_id = g.stream_id) AS events
     FROM gone g ORDER BY g.stream_id`,
    [consumer, stream ?? null],
  );
  return rows.map((r) => ({ stream: r.stream_id, events: Number(r.events) }));
}

/** Per consumer: its parked streams and parked events (health and metrics). */
export async function countParked(
  client: SqlClient,
  s: StoreSchema,
  consumers: readonly string[],
): Promise<Map<string, { streams: number; events: number }>> {
  const rows = await client.query<{
    consumer: string;
    streams: number;
    events: number;
  }>(
    `SELECT consumer, count(DISTINCT stream_id)::int AS streams, count(*)::int AS events
     FROM ${events(s)}
     WHERE consumer IN (SELECT jsonb_array_elements_text($1::text::jsonb))
     GROUP BY consumer`,
    [JSON.stringify(consumers)],
  );
  return new Map(
    rows.map((r) => [
      r.consumer,
      { streams: Number(r.streams), events: Number(r.events) },
    ]),
  );
}

/**
 * A reset's part (in its transaction): the parked events past the new
 * checkpoint are unparked, since the replay reads them again (and parks them
 * again if they still fail); a stream left with none is unparked.
 */
export async function unparkAfter(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  after: Checkpoint,
): Promise<void> {
  await client.query(
    `DELETE FROM ${events(s)} p USING ${s.events} e
     WHERE p.consumer = $1::text AND e.position = p.event_position
       AND (e.transaction_id, e.position) > ($2::text::xid8, $3::bigint)`,
    [consumer, after.transactionId.toString(), after.position.toString()],
  );
  await client.query(
    `DELETE FROM ${streams(s)} p WHERE consumer = $1::text
       AND NOT EXISTS (SELECT 1 FROM ${events(s)} e WHERE e.consumer = p.consumer AND e.stream_id = p.stream_id)`,
    [consumer],
  );
}
