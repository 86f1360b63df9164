import type { SqlClient, StoredEvent, StoreSchema } from '../store/index.js';

/** An event a consumer skipped after its retries, and why. */
export interface DeadLetter {
  readonly consumer: string;
  readonly segment: number;
  readonly event: StoredEvent;
  readonly attempts: number;
  readonly error: string;
}

/** Written in the batch's transaction when one is open: skipping and recording commit together. */
export async function recordDeadLetter(
  client: SqlClient,
  s: StoreSchema,
  letter: DeadLetter,
): Promise<void> {
  await client.query(
    `INSERT INTO ${s.table('dead_letters')}
       (consumer, segment, event_id, event_position, transaction_id, stream_id, event_type, attempts, error)
     VALUES ($1::text, $2::int, $3::uuid, $4::bigint, $5::text::xid8, $6::text, $7::text, $8::int, $9::text)`,
    [
      letter.consumer,
      letter.segment,
      letter.event.id,
      letter.event.position.toString(),
      letter.event.transactionId.toString(),
      letter.event.streamId,
      letter.event.type,
      letter.attempts,
      letter.error,
    ],
  );
}

/** How many events a consumer skipped (rows of `dead_letters`, which nothing removes but you). */
export async function countDeadLetters(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
): Promise<number> {
  const rows = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${s.table('dead_letters')} WHERE consumer = $1::text`,
    [consumer],
  );
  return Number(rows[0].n);
}

/** A `dead_letters` row as listed: an event skipped under the `skip` policy. */
export interface SkippedLetter {
  readonly segment: number;
  readonly stream: string;
  readonly event: {
    readonly id: string;
    readonly type: string;
    readonly position: bigint;
  };
  readonly attempts: number;
  readonly error: string;
  readonly failedAt: Date;
}

/** A consumer's skipped events (or one stream's), oldest first. */
export async function listSkipped(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  stream?: string,
): Promise<SkippedLetter[]> {
  const rows = await client.query<{
    segment: number;
    stream_id: string;
    event_id: string;
    event_type: string;
    position: string;
    attempts: number;
    error: string;
    failed_ms: number;
  }>(
    `SELECT segment, stream_id, event_id::text AS event_id, event_type, event_position::text AS position,
       attempts, error, (extract(epoch FROM failed_at) * 1000)::float8 AS failed_ms
     FROM ${s.table('dead_letters')}
     WHERE consumer = $1::text AND ($2::text IS NULL OR stream_id = $2::text)
     ORDER BY failed_at, id`,
    [consumer, stream ?? null],
  );
  return rows.map((r) => ({
    segment: Number(r.segment),
    stream: r.stream_id,
    event: {
      id: r.event_id,
      type: r.event_type,
      position: BigInt(r.position),
    },
    attempts: Number(r.attempts),
    error: r.error,
    failedAt: new Date(Number(r.failed_ms)),
  }));
}
