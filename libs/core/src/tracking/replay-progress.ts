import {
  segmentReads,
  type Checkpoint,
  type PostgresEventStore,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';
import { pendingReset } from './positions.js';
import {
  askedTarget,
  targetParameters,
  type AskedTarget,
  type ResetTarget,
} from './reset-target.js';

// How far a replay has come, for `npx chronicle replay`. Counted in events of
// the log (any type) the consumer's segments read through, because that is
// what a replay costs, and because the consumer's types live in the app, not
// in the store. Reads only: the replay itself runs in the app's instances.

/** One look at a replay under way. */
export interface ReplayProgress {
  readonly consumer: string;
  /** Events of the log read through since the replay was applied. */
  readonly done: number;
  /** Events of the log from the replay's start to the head when it was applied. */
  readonly total: number;
  /** Events per second since the first look. */
  readonly ratePerSecond: number;
  /** At that rate; null until there is a rate. */
  readonly secondsLeft: number | null;
  readonly elapsedSeconds: number;
  /** A segment is stopped on a failing event: the replay cannot finish until it is dealt with. */
  readonly stopped: boolean;
  readonly finished: boolean;
}

/*
 * The events from an asked target to `goal`, in the log's order: from the
 * start; from the first event stored since a date; after the event at a
 * position. What the rewind resolves, without its cap at the safe horizon
 * (the goal is below the horizon already).
 */
const totalSql = (s: StoreSchema) => `
  WITH first_since AS (
    SELECT e.transaction_id, e.position FROM ${s.events} e
    WHERE $1::text = 'date' AND e.created_at >= $2::text::timestamptz
    ORDER BY e.transaction_id, e.position LIMIT 1),
  at_position AS (
    SELECT e.transaction_id, e.position FROM ${s.events} e
    WHERE $1::text = 'position' AND e.position = $3::text::bigint)
  SELECT count(*)::int AS total FROM ${s.events} e
  WHERE (e.transaction_id, e.position) <= ($5::text::xid8, $6::text::bigint)
    AND CASE $1::text
      WHEN 'beginning' THEN true
      WHEN 'date' THEN (e.transaction_id, e.position) >=
        (SELECT f.transaction_id, f.position FROM first_since f)
      WHEN 'position' THEN (e.transaction_id, e.position) >
        (SELECT a.transaction_id, a.position FROM at_position a)
      ELSE (e.transaction_id, e.position) > ($4::text::xid8, $3::text::bigint)
    END`;

/** Per segment, the events past its checkpoint up to `goal`, in its segment; summed. */
const remainingSql = (s: StoreSchema) => `
  SELECT coalesce(sum(w.n), 0)::int AS remaining, coalesce(bool_or(p.stopped), false) AS stopped
  FROM ${s.table('consumer_positions')} p
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS n FROM ${s.events} e
    WHERE (e.transaction_id, e.position) > (p.transaction_id, p.position)
      AND (e.transaction_id, e.position) <= ($2::text::xid8, $3::text::bigint)
      AND ${segmentReads('e.stream_id', 'p')}) w
  WHERE p.consumer = $1::text`;

async function replayTotal(
  client: SqlClient,
  s: StoreSchema,
  target: AskedTarget,
  goal: Checkpoint,
): Promise<number> {
  const [kind, at, position, transactionId] = targetParameters(target);
  const rows = await client.query<{ total: number }>(s.sql(totalSql), [
    kind,
    at,
    position,
    transactionId,
    goal.transactionId.toString(),
    goal.position.toString(),
  ]);
  return Number(rows[0]?.total ?? 0);
}

async function replayRemaining(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  goal: Checkpoint,
): Promise<{ remaining: number; stopped: boolean }> {
  const rows = await client.query<{ remaining: number; stopped: boolean }>(
    s.sql(remainingSql),
    [consumer, goal.transactionId.toString(), goal.position.toString()],
  );
  return {
    remaining: Number(rows[0]?.remaining ?? 0),
    stopped: Boolean(rows[0]?.stopped),
  };
}

export interface FollowReplayOptions {
  /** The pause between looks. Default 1 s. */
  readonly intervalMs?: number;
  /** Called once while no instance has applied the request yet. */
  readonly onWaiting?: () => void;
  /** Called after each look, the last one with `finished` (or `stopped`) set. */
  readonly onProgress: (progress: ReplayProgress) => void;
}

/**
 * Follows a replay requested with `requestReplay`: waits until an instance
 * applies it, takes the head of the log then as the goal, and reports how
 * many events the consumer's segments have read through towards it, until
 * they all reach it (or one is stopped on a failing event). Returns the last
 * progress reported.
 */
export async function followReplay(
  store: PostgresEventStore,
  consumer: string,
  to: ResetTarget,
  options: FollowReplayOptions,
): Promise<ReplayProgress> {
  const { client, schema } = store;
  const intervalMs = options.intervalMs ?? 1_000;
  const pause = () => new Promise((r) => setTimeout(r, intervalMs));
  let waiting = false;
  while (await pendingReset(client, schema, consumer)) {
    if (!waiting) options.onWaiting?.();
    waiting = true;
    await pause();
  }
  const goal = await store.headCheckpoint();
  const total = await replayTotal(client, schema, askedTarget(to), goal);
  const started = performance.now();
  let firstDone: number | undefined;
  for (;;) {
    const { remaining, stopped } = await replayRemaining(
      client,
      schema,
      consumer,
      goal,
    );
    const done = Math.max(0, total - remaining);
    firstDone ??= done;
    const elapsedSeconds = (performance.now() - started) / 1000;
    const ratePerSecond =
      elapsedSeconds > 0 ? (done - firstDone) / elapsedSeconds : 0;
    const finished = remaining === 0;
    const progress: ReplayProgress = {
      consumer,
      done: finished ? total : done,
      total,
      ratePerSecond,
      secondsLeft: finished
        ? 0
        : ratePerSecond > 0
          ? remaining / ratePerSecond
          : null,
      elapsedSeconds,
      stopped,
      finished,
    };
    options.onProgress(progress);
    if (finished || stopped) return progress;
    await pause();
  }
}
