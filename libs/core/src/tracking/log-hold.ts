import type { SqlClient, StoreSchema } from '../store/index.js';
import type { HoldingTransaction, LogHold } from './consumer-health.js';

/*
 * Readers see only events of transactions older than every running one
 * (pg_snapshot_xmin). Events committed past that horizon wait, and so do
 * consumers: this tells how many wait, since when, and which transactions
 * (with their server process, from pg_stat_activity) hold them back.
 */

const waitingSql = (s: StoreSchema) => `
  WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
  SELECT count(*)::int AS events, max(w.transaction_id)::text AS newest,
         (extract(epoch FROM min(w.created_at)) * 1000)::float8 AS oldest_ms,
         (extract(epoch FROM now()) * 1000)::float8 AS now_ms
  FROM (SELECT e.transaction_id, e.created_at FROM ${s.events} e, horizon h
        WHERE e.transaction_id >= h.xmin LIMIT 1000000) w`;

// backend_xid is the 32-bit form of the running transaction's id.
const holdersSql = `
  SELECT x::text AS transaction_id, a.pid AS pid, a.application_name AS application,
         (extract(epoch FROM a.xact_start) * 1000)::float8 AS since_ms
  FROM pg_snapshot_xip(pg_current_snapshot()) x
  LEFT JOIN pg_stat_activity a ON a.backend_xid IS NOT NULL
    AND a.backend_xid::text::bigint = x::text::bigint % 4294967296
  WHERE x < $1::text::xid8
  ORDER BY x LIMIT 10`;

/** Null when no committed event waits behind the horizon. */
export async function logHold(
  client: SqlClient,
  schema: StoreSchema,
): Promise<LogHold | null> {
  const [waiting] = await client.query<{
    events: number;
    newest: string | null;
    oldest_ms: number | null;
    now_ms: number;
  }>(schema.sql(waitingSql));
  if (!waiting || Number(waiting.events) === 0 || waiting.newest === null)
    return null;
  const transactions = await holders(client, waiting.newest);
  const starts = transactions
    .map((t) => t.since?.getTime())
    .filter((ms): ms is number => ms !== undefined);
  const now = Number(waiting.now_ms);
  const since = Math.min(...starts, Number(waiting.oldest_ms ?? now));
  return {
    since: new Date(since),
    ageSeconds: Math.round(Math.max(0, now - since)) / 1000,
    eventsWaiting: Number(waiting.events),
    transactions,
  };
}

async function holders(
  client: SqlClient,
  newest: string,
): Promise<HoldingTransaction[]> {
  const rows = await client.query<{
    transaction_id: string;
    pid: number | null;
    application: string | null;
    since_ms: number | null;
  }>(holdersSql, [newest]);
  return rows.map((row) => ({
    transactionId: BigInt(row.transaction_id),
    pid: row.pid === null ? null : Number(row.pid),
    since: row.since_ms === null ? null : new Date(Number(row.since_ms)),
    application: row.application || null,
  }));
}
