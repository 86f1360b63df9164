import type { SqlClient, StoreSchema } from '../store/index.js';

// The SQL of process instances, beside its callers. Same statements on
// PostgreSQL and PGlite.

export type ProcessStatus = 'live' | 'ended';

/** An open deadline of an instance, as kept in its row. */
export interface OpenDeadline {
  /** The `schedules` row that delivers it. */
  readonly scheduleId: string;
  /** When it is due (ISO 8601). */
  readonly dueAt: string;
  /** The id of the message whose step set it: a delivery carrying another token is stale. */
  readonly token: string;
}

export type OpenDeadlines = Readonly<Record<string, OpenDeadline>>;

/** An instance as locked at the start of a step. */
export interface LockedInstance {
  readonly state: object;
  readonly status: ProcessStatus;
  readonly deadlines: OpenDeadlines;
  /** Whether this event was handled by the instance before (a replay). */
  readonly seen: boolean;
}

/**
 * Locks the instance's row for the step (`FOR UPDATE`, in the step's
 * transaction), and says whether it handled the message already. Undefined:
 * no instance has this key (and so none handled the message).
 */
export async function lockInstance(
  sql: SqlClient,
  schema: StoreSchema,
  name: string,
  key: string,
  messageId: string,
): Promise<LockedInstance | undefined> {
  const [row] = await sql.query<LockedInstance>(
    `SELECT i.state, i.status, i.deadlines,
            EXISTS (SELECT 1 FROM ${schema.table('process_steps')} s
                    WHERE s.name = i.name AND s.key = i.key AND s.event_id = $3::uuid) AS seen
     FROM ${schema.table('process_instances')} i
     WHERE i.name = $1::text AND i.key = $2::text
     FOR UPDATE OF i`,
    [name, key, messageId],
    // Run for every event a process manager handles: planned once per connection.
    { prepare: true },
  );
  return row;
}

export interface StepRecord {
  readonly name: string;
  readonly key: string;
  readonly state: object;
  readonly ended: boolean;
  readonly deadlines: OpenDeadlines;
  /** The event's id, or a deadline delivery's. */
  readonly eventId: string;
  readonly eventType: string;
  /** The event's position in the log; undefined for a deadline. */
  readonly position: bigint | undefined;
  readonly handler: string;
  /** The ids of the commands the step sent. */
  readonly commands: readonly string[];
}

/** Writes the instance after a step (made or updated) and the step into its history: one statement. */
export async function saveStep(
  sql: SqlClient,
  schema: StoreSchema,
  step: StepRecord,
): Promise<void> {
  const instances = schema.table('process_instances');
  await sql.query(
    `WITH saved AS (
       INSERT INTO ${instances} AS i (name, key, state, status, version, deadlines, ended_at)
       VALUES ($1::text, $2::text, $3::jsonb, $4::text, 1, $10::jsonb,
               CASE WHEN $4::text = 'ended' THEN now() END)
       ON CONFLICT (name, key) DO UPDATE
         SET state = EXCLUDED.state, status = EXCLUDED.status,
             deadlines = EXCLUDED.deadlines, version = i.version + 1,
             updated_at = now(), ended_at = EXCLUDED.ended_at
       RETURNING 1
     )
     INSERT INTO ${schema.table('process_steps')}
       (name, key, event_id, event_type, event_position, handler, commands)
     SELECT $1::text, $2::text, $5::uuid, $6::text, $7::bigint, $8::text, $9::jsonb FROM saved`,
    [
      step.name,
      step.key,
      JSON.stringify(step.state),
      step.ended ? 'ended' : 'live',
      step.eventId,
      step.eventType,
      step.position === undefined ? null : step.position.toString(),
      step.handler,
      JSON.stringify(step.commands),
      JSON.stringify(step.deadlines),
    ],
    { prepare: true },
  );
}
