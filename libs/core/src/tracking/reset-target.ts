import {
  LOG_START,
  type Checkpoint,
  type EventStore,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';
import { InvalidResetTargetError } from './tracking.errors.js';

/**
 * Where a reset rewinds to: the start of the log; a position (the consumer
 * goes on as if it had just handled the event at that position); or a Date
 * (every event stored at or after it is handled again).
 */
export type ResetTarget = 'beginning' | bigint | number | Date;

/** The checkpoint a consumer continues after, for a reset target. */
export async function resolveResetTarget(
  client: SqlClient,
  schema: StoreSchema,
  store: Pick<EventStore, 'headCheckpoint'>,
  to: ResetTarget,
): Promise<Checkpoint> {
  if (to === 'beginning') return LOG_START;
  if (to instanceof Date) {
    if (Number.isNaN(to.getTime()))
      throw new InvalidResetTargetError('The reset date is not a valid Date.');
    // The first event in log order stored at or after the date; we continue just before it.
    const rows = await client.query<{
      transaction_id: string;
      position: string;
    }>(
      `SELECT e.transaction_id::text AS transaction_id, e.position::text AS position FROM ${schema.events} e
       WHERE e.created_at >= $1::text::timestamptz ORDER BY e.transaction_id, e.position LIMIT 1`,
      [to.toISOString()],
    );
    if (rows.length === 0) return store.headCheckpoint();
    return {
      transactionId: BigInt(rows[0].transaction_id),
      position: BigInt(rows[0].position) - 1n,
    };
  }
  const position = BigInt(to);
  if (position <= 0n) return LOG_START;
  const rows = await client.query<{ transaction_id: string }>(
    `SELECT transaction_id::text AS transaction_id FROM ${schema.events} WHERE position = $1::bigint`,
    [position.toString()],
  );
  if (rows.length === 0) {
    throw new InvalidResetTargetError(
      `No event is stored at position ${position}: pick the position of an event (see its envelope), a Date, or 'beginning'.`,
    );
  }
  return { transactionId: BigInt(rows[0].transaction_id), position };
}
