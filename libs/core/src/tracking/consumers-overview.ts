import {
  segmentOf,
  type Checkpoint,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';

// Every consumer of a store as the store alone knows it, for `npx chronicle
// consumers`: no app is loaded, so a consumer's event types are unknown here
// and lag counts events of the log (any type) past each checkpoint in its
// segment. A consumer that reads few types shows the log it still has to
// scan past, which is what keeps it from the head.

/** One segment of a consumer, from `consumer_positions`. */
export interface SegmentOverview {
  readonly segment: number;
  readonly checkpoint: Checkpoint;
  /** The instance holding a live lease on it, or null. */
  readonly owner: string | null;
  readonly status: 'running' | 'stopped' | 'unclaimed';
  /** Events of the log in this segment past the checkpoint (any type, counted up to 1,000,000). */
  readonly lagEvents: number;
  /** Age of the oldest of them, by the database's clock; 0 when none waits. */
  readonly lagSeconds: number;
  readonly lastError: string | null;
}

export interface ConsumerOverview {
  readonly consumer: string;
  readonly segments: readonly SegmentOverview[];
  /** Its rows in `dead_letters`. */
  readonly deadLetters: number;
  /** Streams it holds parked (`park` policy), and the events they hold back. */
  readonly parkedStreams: number;
  readonly parkedEvents: number;
  /** A replay asked for (the CLI) that no instance has applied yet. */
  readonly replayPending: boolean;
}

const overviewSql = (s: StoreSchema) => `
  SELECT p.consumer, p.segment, p.transaction_id::text AS transaction_id, p.position::text AS position,
    CASE WHEN p.lease_expires_at > now() THEN p.owner END AS owner,
    p.stopped, p.last_error,
    w.behind, coalesce(greatest(extract(epoch FROM now() - w.oldest), 0), 0)::float8 AS lag_s,
    (SELECT count(*)::int FROM ${s.table('dead_letters')} d WHERE d.consumer = p.consumer) AS dead_letters,
    (SELECT count(*)::int FROM ${s.table('parked_streams')} ps WHERE ps.consumer = p.consumer) AS parked_streams,
    (SELECT count(*)::int FROM ${s.table('parked_events')} pe WHERE pe.consumer = p.consumer) AS parked_events,
    EXISTS (SELECT 1 FROM ${s.table('consumer_resets')} r WHERE r.consumer = p.consumer) AS replay_pending
  FROM ${s.table('consumer_positions')} p
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS behind, min(x.created_at) AS oldest FROM (
      SELECT e.created_at FROM ${s.events} e
      WHERE (e.transaction_id, e.position) > (p.transaction_id, p.position)
        AND ${segmentOf('e.stream_id', 'p.segment_count')} = p.segment
      LIMIT 1000000) x) w
  ORDER BY p.consumer, p.segment`;

interface OverviewRow {
  consumer: string;
  segment: number;
  transaction_id: string;
  position: string;
  owner: string | null;
  stopped: boolean;
  last_error: string | null;
  behind: number;
  lag_s: number;
  dead_letters: number;
  parked_streams: number;
  parked_events: number;
  replay_pending: boolean;
}

/** Every consumer with stored positions, by name, with its segments in order. */
export async function consumersOverview(
  client: SqlClient,
  s: StoreSchema,
): Promise<ConsumerOverview[]> {
  const rows = await client.query<OverviewRow>(s.sql(overviewSql), []);
  const byName = new Map<
    string,
    ConsumerOverview & { segments: SegmentOverview[] }
  >();
  for (const row of rows) {
    let consumer = byName.get(row.consumer);
    if (!consumer) {
      consumer = {
        consumer: row.consumer,
        segments: [],
        deadLetters: Number(row.dead_letters),
        parkedStreams: Number(row.parked_streams),
        parkedEvents: Number(row.parked_events),
        replayPending: Boolean(row.replay_pending),
      };
      byName.set(row.consumer, consumer);
    }
    consumer.segments.push({
      segment: Number(row.segment),
      checkpoint: {
        transactionId: BigInt(row.transaction_id),
        position: BigInt(row.position),
      },
      owner: row.owner,
      status: row.stopped ? 'stopped' : row.owner ? 'running' : 'unclaimed',
      lagEvents: Number(row.behind),
      lagSeconds: Math.round(Number(row.lag_s) * 1000) / 1000,
      lastError: row.last_error,
    });
  }
  return [...byName.values()];
}
