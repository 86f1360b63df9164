import {
  segmentReads,
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

/** A blue-green version, for consumers that declare tables (`consumer_versions`). */
export interface VersionOverview {
  /** The consumer's declared name (positions are under `<name>@v<n>` from version 2). */
  readonly consumer: string;
  readonly version: number;
  /** `building`: rebuilt beside the live version, which still serves reads. */
  readonly status: 'building' | 'live' | 'retired';
}

export interface ConsumerOverview {
  /** The name its positions are stored under. */
  readonly consumer: string;
  /** Its blue-green version, when it declares tables; null otherwise. */
  readonly version: VersionOverview | null;
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
    EXISTS (SELECT 1 FROM ${s.table('consumer_resets')} r WHERE r.consumer = p.consumer) AS replay_pending,
    v.consumer AS declared, v.version, v.status AS version_status
  FROM ${s.table('consumer_positions')} p
  LEFT JOIN ${s.table('consumer_versions')} v
    ON p.consumer = CASE WHEN v.version = 1 THEN v.consumer ELSE v.consumer || '@v' || v.version END
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS behind, min(x.created_at) AS oldest FROM (
      SELECT e.created_at FROM ${s.events} e
      WHERE (e.transaction_id, e.position) > (p.transaction_id, p.position)
        AND ${segmentReads('e.stream_id', 'p')}
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
  declared: string | null;
  version: number | null;
  version_status: VersionOverview['status'] | null;
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
        version:
          row.declared === null || row.version_status === null
            ? null
            : {
                consumer: row.declared,
                version: Number(row.version),
                status: row.version_status,
              },
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

/** How far a version being rebuilt has come, from the store alone. */
export interface RebuildOverview {
  readonly consumer: string;
  readonly version: number;
  /** Events of the log (any type) it has read past, across its segments. */
  readonly done: number;
  /** Events in the log now: what it has to read to reach the head. */
  readonly total: number;
}

const eventCountSql = (s: StoreSchema) =>
  `SELECT count(*)::int AS n FROM ${s.events}`;

/**
 * The rebuilds under way among `consumers`: each building version's events
 * left (its lag, any type) against the events in the log. Counts the log
 * only when some version is building.
 */
export async function rebuildsOverview(
  client: SqlClient,
  s: StoreSchema,
  consumers: readonly ConsumerOverview[],
): Promise<RebuildOverview[]> {
  const building = consumers.filter((c) => c.version?.status === 'building');
  if (building.length === 0) return [];
  const [{ n }] = await client.query<{ n: number }>(s.sql(eventCountSql), []);
  const total = Number(n);
  return building.map((c) => {
    const left = c.segments.reduce((sum, seg) => sum + seg.lagEvents, 0);
    return {
      consumer: c.version?.consumer ?? c.consumer,
      version: c.version?.version ?? 1,
      done: Math.max(0, total - left),
      total,
    };
  });
}
