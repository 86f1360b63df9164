import type { SqlClient, StoreSchema } from '../store/index.js';
import type { ProcessStatus } from './process-instances.js';

/** One step of an instance's history: an event, a deadline or a failed command it handled. */
export interface ProcessStepOverview {
  readonly messageId: string;
  readonly messageType: string;
  /** The event's position in the log; null for a deadline or a command failure. */
  readonly position: string | null;
  readonly handler: string;
  /** The ids of the commands the step sent. */
  readonly commands: readonly string[];
  readonly handledAt: Date;
}

/** A process instance as stored: what `npx chronicle processes` prints. */
export interface ProcessInstanceOverview {
  readonly name: string;
  readonly key: string;
  readonly status: ProcessStatus;
  readonly state: unknown;
  readonly version: number;
  readonly startedAt: Date;
  readonly updatedAt: Date;
  readonly endedAt: Date | null;
  /** Open deadlines, by when they are due. */
  readonly deadlines: readonly {
    readonly name: string;
    readonly dueAt: string;
  }[];
  /** Its steps in the order handled (oldest first). */
  readonly history: readonly ProcessStepOverview[];
}

export interface ProcessListQuery {
  /** The process manager's name (`@ProcessManager(name)`). */
  readonly name: string;
  /** Only this instance. */
  readonly key?: string;
  /** At most this many instances, most recently changed first. Default 100. */
  readonly limit?: number;
}

/**
 * The instances of a process manager with their state, status, open
 * deadlines and history, read from the store alone (no app needs to run).
 * Two statements.
 */
export async function listProcesses(
  client: SqlClient,
  schema: StoreSchema,
  query: ProcessListQuery,
): Promise<ProcessInstanceOverview[]> {
  const rows = await client.query<{
    key: string;
    status: ProcessStatus;
    state: unknown;
    version: number;
    started_at: Date;
    updated_at: Date;
    ended_at: Date | null;
    deadlines: Record<string, { dueAt: string }>;
  }>(
    `SELECT key, status, state, version, started_at, updated_at, ended_at, deadlines
     FROM ${schema.table('process_instances')}
     WHERE name = $1::text AND ($2::text IS NULL OR key = $2::text)
     ORDER BY updated_at DESC, key
     LIMIT $3::int`,
    [query.name, query.key ?? null, query.limit ?? 100],
  );
  const steps = await client.query<{
    key: string;
    event_id: string;
    event_type: string;
    event_position: string | null;
    handler: string;
    commands: string[];
    handled_at: Date;
  }>(
    `SELECT key, event_id, event_type, event_position::text AS event_position,
            handler, commands, handled_at
     FROM ${schema.table('process_steps')}
     WHERE name = $1::text
       AND key IN (SELECT jsonb_array_elements_text($2::jsonb))
     ORDER BY handled_at, event_position`,
    [query.name, JSON.stringify(rows.map((r) => r.key))],
  );
  return rows.map((row) => ({
    name: query.name,
    key: row.key,
    status: row.status,
    state: row.state,
    version: Number(row.version),
    startedAt: new Date(row.started_at),
    updatedAt: new Date(row.updated_at),
    endedAt: row.ended_at === null ? null : new Date(row.ended_at),
    deadlines: Object.entries(row.deadlines)
      .map(([name, open]) => ({ name, dueAt: open.dueAt }))
      .sort((a, b) => a.dueAt.localeCompare(b.dueAt)),
    history: steps
      .filter((s) => s.key === row.key)
      .map((s) => ({
        messageId: s.event_id,
        messageType: s.event_type,
        position: s.event_position,
        handler: s.handler,
        commands: s.commands,
        handledAt: new Date(s.handled_at),
      })),
  }));
}
