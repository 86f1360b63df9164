import type { SqlClient, StoreSchema } from '../store/index.js';
import { listProcesses, type ProcessInstanceOverview } from './process-list.js';

/** An open deadline of an instance, with what tells one setting of it from another. */
export interface ProcessDeadlineDetail {
  readonly name: string;
  readonly dueAt: Date;
  /** The id of the message whose step set it: setting it again gives it another. */
  readonly setBy: string;
  /**
   * The id it is delivered under: once it fired, the history has a step with
   * this message id. Null if its schedule row is gone.
   */
  readonly deliveryId: string | null;
}

/** One instance as stored: its overview, with its open deadlines in full. */
export interface ProcessInstanceDetail extends Omit<
  ProcessInstanceOverview,
  'deadlines'
> {
  /** Open deadlines, by when they are due. */
  readonly deadlines: readonly ProcessDeadlineDetail[];
}

/**
 * The instance of process manager `name` for `key`, or undefined if no
 * instance has that key: for tests and tools that check an instance's
 * deadlines one setting at a time. Reads only.
 */
export async function readProcess(
  client: SqlClient,
  schema: StoreSchema,
  name: string,
  key: string,
): Promise<ProcessInstanceDetail | undefined> {
  const [overview] = await listProcesses(client, schema, {
    name,
    key,
    limit: 1,
  });
  if (!overview) return undefined;
  const deadlines = await client.query<{
    name: string;
    due_at: string;
    set_by: string;
    delivery_id: string | null;
  }>(
    `SELECT d.key AS name, d.value->>'dueAt' AS due_at, d.value->>'token' AS set_by,
            s.delivery_id::text AS delivery_id
     FROM ${schema.table('process_instances')} i
     CROSS JOIN LATERAL jsonb_each(i.deadlines) d
     LEFT JOIN ${schema.table('schedules')} s ON s.id = d.value->>'scheduleId'
     WHERE i.name = $1::text AND i.key = $2::text
     ORDER BY d.value->>'dueAt', d.key`,
    [name, key],
  );
  return {
    ...overview,
    deadlines: deadlines.map((d) => ({
      name: d.name,
      dueAt: new Date(d.due_at),
      setBy: d.set_by,
      deliveryId: d.delivery_id,
    })),
  };
}
