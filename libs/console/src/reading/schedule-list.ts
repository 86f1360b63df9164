import {
  isProcessScheduleType,
  type SqlClient,
  type StoreSchema,
} from '@chronicle/core';

/** The process instance a schedule belongs to (a deadline, a dead command handed back). */
export interface ScheduleProcess {
  /** The process manager's name (`@ProcessManager(name)`). */
  readonly name: string;
  readonly key: string | null;
}

/** One row of `schedules`, as the console lists it. */
export interface ScheduleRow {
  readonly id: string;
  readonly kind: string;
  readonly type: string;
  readonly dueAt: string;
  /** `every 60000 ms` or `cron 0 * * * * (UTC)`; null for a one-off. */
  readonly periodic: string | null;
  readonly status: 'scheduled' | 'dead';
  readonly attempts: number;
  readonly lastError: string | null;
  readonly user: string | null;
  /**
   * Set for a process manager's own schedule: it belongs to that instance
   * (which lists its deadlines as open), so only the process cancels it.
   */
  readonly process: ScheduleProcess | null;
}

/** How many schedules the page lists (the soonest due first). */
export const SCHEDULE_LIMIT = 500;

interface Row {
  id: string;
  kind: string;
  type: string;
  due: Date | string;
  periodic: { every?: number; cron?: string; timeZone?: string } | null;
  status: 'scheduled' | 'dead';
  attempts: number;
  last_error: string | null;
  user_id: string | null;
  process_key: string | null;
}

// Dead rows first (they wait for someone), then by due time.
const sql = (s: StoreSchema) => `
  SELECT id, kind, type, due_at AS due, periodic, status, attempts, last_error,
    metadata->'user'->>'id' AS user_id, payload->>'key' AS process_key
  FROM ${s.table('schedules')}
  ORDER BY status = 'dead' DESC, due_at, id
  LIMIT ${SCHEDULE_LIMIT}`;

export async function listSchedules(
  client: SqlClient,
  schema: StoreSchema,
): Promise<ScheduleRow[]> {
  const rows = await client.query<Row>(schema.sql(sql), []);
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    type: row.type,
    dueAt: new Date(row.due).toISOString(),
    periodic: periodicText(row.periodic),
    status: row.status,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    user: row.user_id,
    process: processOf(row.type, row.process_key),
  }));
}

/** `chronicle.process.<name>.deadline` (or `.commandFailed`): the process and its instance's key. */
export function processOf(
  type: string,
  key: string | null,
): ScheduleProcess | null {
  if (!isProcessScheduleType(type)) return null;
  const name = type.slice('chronicle.process.'.length, type.lastIndexOf('.'));
  return { name, key };
}

function periodicText(periodic: Row['periodic']): string | null {
  if (!periodic) return null;
  if (periodic.every !== undefined)
    return `every ${durationText(periodic.every)}`;
  return `cron ${periodic.cron} (${periodic.timeZone ?? 'UTC'})`;
}

/** `1h`, `90s`, `1h 30m`: a period as people write it. */
export function durationText(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join(' ');
}
