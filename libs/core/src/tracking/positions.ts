import {
  segmentReads,
  type Checkpoint,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';
import { targetParameters, type AskedTarget } from './reset-target.js';

// The SQL of consumer_positions, consumer_instances and consumer_resets, one
// function per statement. Checkpoints travel as text: xid8 and bigint do not
// fit a JS number, and both drivers agree on text.

const positions = (s: StoreSchema) => s.table('consumer_positions');
const instances = (s: StoreSchema) => s.table('consumer_instances');
const resets = (s: StoreSchema) => s.table('consumer_resets');

export interface SegmentRow {
  readonly segment: number;
  readonly checkpoint: Checkpoint;
  readonly owner: string | null;
  readonly leaseExpiresAt: Date | null;
  readonly stopped: boolean;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
}

interface RawSegmentRow {
  segment: number;
  transaction_id: string;
  position: string;
  owner: string | null;
  lease_ms: number | null;
  stopped: boolean;
  last_error: string | null;
  error_ms: number | null;
}

const segmentColumns = (
  t = '',
) => `${t}segment AS segment, ${t}transaction_id::text AS transaction_id,
  ${t}position::text AS position, ${t}owner AS owner,
  (extract(epoch FROM ${t}lease_expires_at) * 1000)::float8 AS lease_ms, ${t}stopped AS stopped,
  ${t}last_error AS last_error, (extract(epoch FROM ${t}last_error_at) * 1000)::float8 AS error_ms`;
const SEGMENT_COLUMNS = segmentColumns();

function toSegmentRow(row: RawSegmentRow): SegmentRow {
  return {
    segment: Number(row.segment),
    checkpoint: {
      transactionId: BigInt(row.transaction_id),
      position: BigInt(row.position),
    },
    owner: row.owner,
    leaseExpiresAt: row.lease_ms === null ? null : new Date(row.lease_ms),
    stopped: row.stopped,
    lastError: row.last_error,
    lastErrorAt: row.error_ms === null ? null : new Date(row.error_ms),
  };
}

/** How a consumer's segments split the log: by stream, or by a key of the consumer's own. */
export type SequencedBy = 'stream' | 'key';

/** A consumer's segmentation as stored: each distinct (count, sequencing) among its rows. */
export interface StoredSegmentation {
  readonly count: number;
  readonly sequencedBy: SequencedBy;
}

/** Creates the consumer's rows at `start` if it has none; returns the segmentations stored. */
export async function ensureSegments(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  count: number,
  sequencedBy: SequencedBy,
  start: () => Promise<Checkpoint>,
): Promise<StoredSegmentation[]> {
  const existing = await storedSegmentations(client, s, consumer);
  if (existing.length > 0) return existing;
  const from = await start();
  await client.query(
    `INSERT INTO ${positions(s)} (consumer, segment, segment_count, transaction_id, position, sequenced_by)
     SELECT $1::text, g, $2::int, $3::text::xid8, $4::bigint, $5::text FROM generate_series(0, $2::int - 1) g
     ON CONFLICT (consumer, segment) DO NOTHING`,
    [
      consumer,
      count,
      from.transactionId.toString(),
      from.position.toString(),
      sequencedBy,
    ],
  );
  return storedSegmentations(client, s, consumer);
}

async function storedSegmentations(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
): Promise<StoredSegmentation[]> {
  const rows = await client.query<{
    segment_count: number;
    sequenced_by: SequencedBy;
  }>(
    `SELECT DISTINCT segment_count, sequenced_by FROM ${positions(s)} WHERE consumer = $1::text`,
    [consumer],
  );
  return rows.map((r) => ({
    count: Number(r.segment_count),
    sequencedBy: r.sequenced_by,
  }));
}

/** Why a consumer's segments could not be redrawn. */
export type ResegmentRefusal = 'running' | 'parked';

/**
 * Redraws a consumer's segments (`onSegmentsChanged: 'replay-from-oldest'`):
 * every new segment starts at the oldest checkpoint of the old ones, so no
 * event is passed over; those some old segment had handled come again.
 * Refused while another instance runs the consumer (its workers would go on
 * with the old split) or while it holds parked streams (they belong to old
 * segments).
 */
export async function resegment(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  count: number,
  sequencedBy: SequencedBy,
  owner: string,
): Promise<ResegmentRefusal | undefined> {
  return client.transaction(async (tx) => {
    await tx.query(
      'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))',
      [RESEGMENT_LOCK, consumer],
    );
    const [state] = await tx.query<{ running: boolean; parked: boolean }>(
      `SELECT
         EXISTS (SELECT 1 FROM ${positions(s)} WHERE consumer = $1::text
                 AND owner IS NOT NULL AND owner <> $2::text AND lease_expires_at > now())
         OR EXISTS (SELECT 1 FROM ${instances(s)} WHERE consumer = $1::text
                 AND owner <> $2::text AND expires_at > now()) AS running,
         EXISTS (SELECT 1 FROM ${s.table('parked_streams')} WHERE consumer = $1::text) AS parked`,
      [consumer, owner],
    );
    if (state.running) return 'running';
    if (state.parked) return 'parked';
    const [oldest] = await tx.query<{
      transaction_id: string;
      position: string;
    }>(
      `SELECT transaction_id::text AS transaction_id, position::text AS position
       FROM ${positions(s)} WHERE consumer = $1::text
       ORDER BY transaction_id, position LIMIT 1`,
      [consumer],
    );
    await tx.query(`DELETE FROM ${positions(s)} WHERE consumer = $1::text`, [
      consumer,
    ]);
    await tx.query(
      `INSERT INTO ${positions(s)} (consumer, segment, segment_count, transaction_id, position, sequenced_by)
       SELECT $1::text, g, $2::int, $3::text::xid8, $4::bigint, $5::text FROM generate_series(0, $2::int - 1) g`,
      [consumer, count, oldest.transaction_id, oldest.position, sequencedBy],
    );
    return undefined;
  });
}

/** Advisory lock class of a consumer's redraw of segments. */
const RESEGMENT_LOCK = 0x43524753;

/** Records this instance as alive; returns how many instances run the consumer now. */
export async function heartbeat(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  owner: string,
  leaseMs: number,
): Promise<number> {
  const rows = await client.query<{ live: number }>(
    `WITH beat AS (
       INSERT INTO ${instances(s)} (consumer, owner, expires_at)
       VALUES ($1::text, $2::text, now() + $3::int * interval '1 millisecond')
       ON CONFLICT (consumer, owner) DO UPDATE SET expires_at = EXCLUDED.expires_at
       RETURNING owner)
     SELECT (SELECT count(*) FROM ${instances(s)}
             WHERE consumer = $1::text AND owner <> $2::text AND expires_at > now())::int + 1 AS live`,
    [consumer, owner, leaseMs],
  );
  return Number(rows[0].live);
}

export async function leaveInstances(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  owner: string,
): Promise<void> {
  await client.query(
    `DELETE FROM ${instances(s)} WHERE (consumer = $1::text AND owner = $2::text) OR expires_at < now() - interval '1 hour'`,
    [consumer, owner],
  );
}

/** Extends the leases this instance holds; returns the segments it still holds. */
export async function renewLeases(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  owner: string,
  leaseMs: number,
): Promise<SegmentRow[]> {
  const rows = await client.query<RawSegmentRow>(
    `UPDATE ${positions(s)} SET lease_expires_at = now() + $3::int * interval '1 millisecond'
     WHERE consumer = $1::text AND owner = $2::text RETURNING ${SEGMENT_COLUMNS}`,
    [consumer, owner, leaseMs],
  );
  return rows.map(toSegmentRow);
}

/**
 * Claims up to `limit` segments that nobody holds or whose lease ran out.
 * SKIP LOCKED: two instances claiming at once never wait for, nor take, the same row.
 */
export async function claimSegments(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  owner: string,
  leaseMs: number,
  limit: number,
): Promise<SegmentRow[]> {
  const rows = await client.query<RawSegmentRow>(
    `WITH free AS (
       SELECT segment FROM ${positions(s)}
       WHERE consumer = $1::text AND (owner IS NULL OR lease_expires_at < now())
       ORDER BY segment LIMIT $4::int FOR UPDATE SKIP LOCKED)
     UPDATE ${positions(s)} p SET owner = $2::text, lease_expires_at = now() + $3::int * interval '1 millisecond'
     FROM free WHERE p.consumer = $1::text AND p.segment = free.segment
     RETURNING ${segmentColumns('p.')}`,
    [consumer, owner, leaseMs, limit],
  );
  return rows.map(toSegmentRow);
}

/** Hands segments back at once (graceful stop, rebalancing); all of them when `segments` is omitted. */
export async function releaseSegments(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  owner: string,
  segments?: readonly number[],
): Promise<void> {
  await client.query(
    `UPDATE ${positions(s)} SET owner = NULL, lease_expires_at = NULL
     WHERE consumer = $1::text AND owner = $2::text
       AND ($3::text IS NULL OR segment IN (SELECT jsonb_array_elements_text($3::text::jsonb)::int))`,
    [consumer, owner, segments ? JSON.stringify(segments) : null],
  );
}

// checkpoint_moved_at by the statement's clock, not the transaction's start:
// a long batch moves the checkpoint when it ends, and health must see it so.
const savePositionSql = (s: StoreSchema) => `
  UPDATE ${positions(s)} SET transaction_id = $6::text::xid8, position = $7::bigint, stopped = false, updated_at = now(),
    checkpoint_moved_at = CASE WHEN ($4::text::xid8, $5::bigint) = ($6::text::xid8, $7::bigint)
      THEN checkpoint_moved_at ELSE clock_timestamp() END
  WHERE consumer = $1::text AND segment = $2::int AND owner = $3::text
    AND transaction_id = $4::text::xid8 AND position = $5::bigint
  RETURNING segment`;

/**
 * Moves a segment's checkpoint from `from` to `to`, only if this instance
 * still holds it and nobody moved it meanwhile (a reset, a new owner): the
 * fence that keeps a late instance from committing over another's work.
 */
export async function savePosition(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  segment: number,
  owner: string,
  from: Checkpoint,
  to: Checkpoint,
): Promise<boolean> {
  const rows = await client.query(
    s.sql(savePositionSql),
    [
      consumer,
      segment,
      owner,
      from.transactionId.toString(),
      from.position.toString(),
      to.transactionId.toString(),
      to.position.toString(),
    ],
    { prepare: true },
  );
  return rows.length === 1;
}

export async function readSegments(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
): Promise<SegmentRow[]> {
  const rows = await client.query<RawSegmentRow>(
    `SELECT ${SEGMENT_COLUMNS} FROM ${positions(s)} WHERE consumer = $1::text ORDER BY segment`,
    [consumer],
  );
  return rows.map(toSegmentRow);
}

/** Records a segment's last error; `stopped` when the default policy stopped it. */
export async function recordError(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  segment: number,
  error: string,
  stopped: boolean,
): Promise<void> {
  await client.query(
    `UPDATE ${positions(s)} SET last_error = $3::text, last_error_at = now(), stopped = $4::boolean
     WHERE consumer = $1::text AND segment = $2::int`,
    [consumer, segment, error, stopped],
  );
}

/** Asks the running instances of a consumer to replay it (what the CLI does): stores what was asked. */
export async function requestReset(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  target: AskedTarget,
): Promise<void> {
  await client.query(
    `INSERT INTO ${resets(s)} (consumer, target_kind, target_at, target_position, transaction_id, position)
     VALUES ($1::text, $2::text, $3::text::timestamptz, $4::text::bigint, NULL, NULL)
     ON CONFLICT (consumer) DO UPDATE SET target_kind = EXCLUDED.target_kind,
       target_at = EXCLUDED.target_at, target_position = EXCLUDED.target_position,
       transaction_id = NULL, position = NULL, requested_at = now()`,
    [consumer, ...targetParameters(target).slice(0, 3)],
  );
}

interface RawResetRow {
  target_kind: string;
  target_ms: number | null;
  target_position: string | null;
  transaction_id: string | null;
  position: string | null;
}

const RESET_COLUMNS = `target_kind, (extract(epoch FROM target_at) * 1000)::float8 AS target_ms,
  target_position::text AS target_position, transaction_id::text AS transaction_id, position::text AS position`;

function toAskedTarget(row: RawResetRow): AskedTarget {
  switch (row.target_kind) {
    case 'beginning':
      return { kind: 'beginning' };
    case 'date':
      return { kind: 'date', at: new Date(Number(row.target_ms)) };
    case 'position':
      return { kind: 'position', position: BigInt(row.target_position ?? 0) };
    default:
      return {
        kind: 'checkpoint',
        checkpoint: {
          transactionId: BigInt(row.transaction_id ?? 0),
          position: BigInt(row.position ?? 0),
        },
      };
  }
}

export async function pendingReset(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
): Promise<AskedTarget | undefined> {
  const rows = await client.query<RawResetRow>(
    `SELECT ${RESET_COLUMNS} FROM ${resets(s)} WHERE consumer = $1::text`,
    [consumer],
  );
  return rows.length === 0 ? undefined : toAskedTarget(rows[0]);
}

/**
 * Removes the request in the reset's transaction and returns what it asks
 * for; undefined when another instance took it first.
 */
export async function takeReset(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
): Promise<AskedTarget | undefined> {
  const rows = await client.query<RawResetRow>(
    `DELETE FROM ${resets(s)} WHERE consumer = $1::text RETURNING ${RESET_COLUMNS}`,
    [consumer],
  );
  return rows.length === 0 ? undefined : toAskedTarget(rows[0]);
}

/** A segment's row with its lag, for health. */
export interface SegmentLagRow extends SegmentRow {
  /** Events of the consumer's types past the checkpoint, held back or not (capped). */
  readonly behind: number;
  /** Of those, the ones below the safe horizon: a running segment can read them now. */
  readonly readableBehind: number;
  /** Age of the oldest of them, by the database's clock; 0 when none waits. */
  readonly lagSeconds: number;
  readonly checkpointMovedAt: Date;
  /** Seconds since the checkpoint last moved, by the database's clock. */
  readonly checkpointIdleSeconds: number;
}

/*
 * Every segment of a consumer with what waits past its checkpoint, in one
 * statement. Held-back events are lag too; the scan per segment is capped
 * (for health, not accounting), so past 1,000,000 waiting events the count
 * stops and the age is that of the oldest event scanned.
 */
const segmentLagSql = (s: StoreSchema) => `
  SELECT ${segmentColumns('p.')},
    (extract(epoch FROM p.checkpoint_moved_at) * 1000)::float8 AS moved_ms,
    greatest(extract(epoch FROM now() - p.checkpoint_moved_at), 0)::float8 AS idle_s,
    w.behind AS behind, w.readable AS readable,
    coalesce(greatest(extract(epoch FROM now() - w.oldest), 0), 0)::float8 AS lag_s
  FROM ${positions(s)} p
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS behind, min(x.created_at) AS oldest,
      (count(*) FILTER (WHERE x.transaction_id < pg_snapshot_xmin(pg_current_snapshot())))::int AS readable
    FROM (
      SELECT e.transaction_id, e.created_at FROM ${s.events} e
      WHERE (e.transaction_id, e.position) > (p.transaction_id, p.position)
        AND e.type IN (SELECT jsonb_array_elements_text($2::text::jsonb))
        AND ${segmentReads('e.stream_id', 'p')}
      LIMIT 1000000) x) w
  WHERE p.consumer = $1::text ORDER BY p.segment`;

/** Per segment: its row, how far behind it is in events and in time, and when its checkpoint moved. */
export async function segmentLags(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  types: readonly string[],
): Promise<SegmentLagRow[]> {
  const rows = await client.query<
    RawSegmentRow & {
      moved_ms: number;
      idle_s: number;
      behind: number;
      readable: number;
      lag_s: number;
    }
  >(s.sql(segmentLagSql), [consumer, JSON.stringify(types)]);
  return rows.map((row) => ({
    ...toSegmentRow(row),
    behind: Number(row.behind),
    readableBehind: Number(row.readable),
    lagSeconds: milliRound(Number(row.lag_s)),
    checkpointMovedAt: new Date(Number(row.moved_ms)),
    checkpointIdleSeconds: milliRound(Number(row.idle_s)),
  }));
}

/** Seconds to the millisecond: what a probe or a gauge can use. */
export const milliRound = (seconds: number): number =>
  Math.round(seconds * 1000) / 1000;

/**
 * Locks a segment's row in a retry's transaction if this instance holds it:
 * a new owner (or a reset) waits for the retry, and a retry never runs where
 * the segment is not ours.
 */
export async function lockOwnedSegment(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  segment: number,
  owner: string,
): Promise<boolean> {
  const rows = await client.query(
    `SELECT 1 FROM ${positions(s)} WHERE consumer = $1::text AND segment = $2::int AND owner = $3::text FOR SHARE`,
    [consumer, segment, owner],
  );
  return rows.length === 1;
}
