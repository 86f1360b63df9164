import type { Checkpoint, SqlClient, StoreSchema } from '../store/index.js';
import { InvalidResetTargetError } from './tracking.errors.js';

/**
 * Where a reset rewinds to: the start of the log; a position (the consumer
 * goes on as if it had just handled the event at that position); or a Date
 * (every event stored at or after it is handled again).
 */
export type ResetTarget = 'beginning' | bigint | number | Date;

/** A reset target as asked, the way it is stored until a consumer applies it. */
export type AskedTarget =
  | { readonly kind: 'beginning' }
  | { readonly kind: 'date'; readonly at: Date }
  | { readonly kind: 'position'; readonly position: bigint }
  /** A checkpoint resolved by a requester of an earlier version. */
  | { readonly kind: 'checkpoint'; readonly checkpoint: Checkpoint };

/** Checks a reset target and says what it asks for. */
export function askedTarget(to: ResetTarget): AskedTarget {
  if (to === 'beginning') return { kind: 'beginning' };
  if (to instanceof Date) {
    if (Number.isNaN(to.getTime()))
      throw new InvalidResetTargetError('The reset date is not a valid Date.');
    return { kind: 'date', at: to };
  }
  if (
    (typeof to !== 'bigint' && typeof to !== 'number') ||
    (typeof to === 'number' && !Number.isSafeInteger(to))
  ) {
    throw new InvalidResetTargetError(
      `Cannot reset to ${String(to)}: pick 'beginning', a Date, or the position of an event (a whole number).`,
    );
  }
  const position = BigInt(to);
  return position <= 0n
    ? { kind: 'beginning' }
    : { kind: 'position', position };
}

/** The parameters $2..$5 of the statements that take an asked target. */
export function targetParameters(
  target: AskedTarget,
): [string, string | null, string | null, string | null] {
  switch (target.kind) {
    case 'beginning':
      return ['beginning', null, null, null];
    case 'date':
      return ['date', target.at.toISOString(), null, null];
    case 'position':
      return ['position', null, target.position.toString(), null];
    case 'checkpoint':
      return [
        'checkpoint',
        null,
        target.checkpoint.position.toString(),
        target.checkpoint.transactionId.toString(),
      ];
  }
}

/*
 * The rewind resolves the target and caps it at the safe horizon in ONE
 * statement, so in one snapshot. Resolved apart, an event whose transaction is
 * still open (invisible to the resolution, below the target in log order)
 * would commit behind the new checkpoint and never be delivered. The cap is
 * the newest event below pg_snapshot_xmin: everything up to it has committed,
 * everything after it is still to come, so the checkpoint never passes an
 * event that may yet appear. A capped reset replays a little more, never less.
 */
const rewindSql = (s: StoreSchema) => `
  WITH head AS (
    SELECT e.transaction_id, e.position FROM ${s.events} e
    WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1),
  cap AS (
    SELECT transaction_id, position FROM head
    UNION ALL SELECT '0'::xid8, 0::bigint WHERE NOT EXISTS (SELECT 1 FROM head)),
  first_since AS (
    SELECT e.transaction_id, e.position - 1 AS position FROM ${s.events} e
    WHERE $2::text = 'date' AND e.created_at >= $3::text::timestamptz
    ORDER BY e.transaction_id, e.position LIMIT 1),
  asked AS (
    SELECT '0'::xid8 AS transaction_id, 0::bigint AS position WHERE $2::text = 'beginning'
    UNION ALL SELECT transaction_id, position FROM first_since
    UNION ALL SELECT transaction_id, position FROM cap
      WHERE $2::text = 'date' AND NOT EXISTS (SELECT 1 FROM first_since)
    UNION ALL SELECT e.transaction_id, e.position FROM ${s.events} e
      WHERE $2::text = 'position' AND e.position = $4::text::bigint
    UNION ALL SELECT $5::text::xid8, $4::text::bigint WHERE $2::text = 'checkpoint'),
  target AS (
    SELECT transaction_id, position FROM (
      SELECT transaction_id, position FROM asked
      UNION ALL SELECT transaction_id, position FROM cap) t
    WHERE EXISTS (SELECT 1 FROM asked)
    ORDER BY transaction_id, position LIMIT 1)
  UPDATE ${s.table('consumer_positions')} p
  SET transaction_id = t.transaction_id, position = t.position, stopped = false,
      last_error = NULL, last_error_at = NULL, updated_at = now(),
      checkpoint_moved_at = clock_timestamp()
  FROM target t WHERE p.consumer = $1::text
  RETURNING t.transaction_id::text AS transaction_id, t.position::text AS position`;

/**
 * Rewinds every segment of a consumer to `target`, capped at the safe
 * horizon (inside the reset's transaction). Returns the checkpoint set.
 */
export async function rewind(
  client: SqlClient,
  schema: StoreSchema,
  consumer: string,
  target: AskedTarget,
): Promise<Checkpoint> {
  // Lock the rows first: batches in flight wait for the reset, not the reverse.
  await client.query(
    `SELECT 1 FROM ${schema.table('consumer_positions')} WHERE consumer = $1::text FOR UPDATE`,
    [consumer],
  );
  const rows = await client.query<{ transaction_id: string; position: string }>(
    schema.sql(rewindSql),
    [consumer, ...targetParameters(target)],
  );
  if (rows.length === 0 && target.kind === 'position') {
    throw noEventAt(target.position);
  }
  return rows.length === 0
    ? { transactionId: 0n, position: 0n }
    : {
        transactionId: BigInt(rows[0].transaction_id),
        position: BigInt(rows[0].position),
      };
}

/** Refuses a position no event holds (checked when a replay is requested). */
export async function checkTarget(
  client: SqlClient,
  schema: StoreSchema,
  target: AskedTarget,
): Promise<void> {
  if (target.kind !== 'position') return;
  const rows = await client.query(
    `SELECT 1 FROM ${schema.events} WHERE position = $1::text::bigint`,
    [target.position.toString()],
  );
  if (rows.length === 0) throw noEventAt(target.position);
}

function noEventAt(position: bigint): InvalidResetTargetError {
  return new InvalidResetTargetError(
    `No event is stored at position ${position}: pick the position of an event (see its envelope), a Date, or 'beginning'.`,
  );
}
