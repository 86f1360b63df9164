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
