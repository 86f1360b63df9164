import type { HandledCommand } from '../event-store.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

const findSql = (s: StoreSchema) =>
  `SELECT command_type, result FROM ${s.handledCommands} WHERE command_id = $1::text`;

const findManySql = (s: StoreSchema) =>
  `SELECT h.command_id, h.command_type, h.result
     FROM jsonb_array_elements_text($1::text::jsonb) AS ids(id)
     JOIN ${s.handledCommands} h ON h.command_id = ids.id`;

type Record = { command_type: string; result: { value: unknown } | null };

export async function findHandledCommand(
  client: SqlClient,
  schema: StoreSchema,
  id: string,
): Promise<HandledCommand | undefined> {
  const rows = await client.query<Record>(schema.sql(findSql), [id], {
    prepare: true,
  });
  if (rows.length === 0) return undefined;
  return { id, type: rows[0].command_type, result: rows[0].result?.value };
}

/** The records of several commands in one statement, by id (absent ids are left out). */
export async function findHandledCommands(
  client: SqlClient,
  schema: StoreSchema,
  ids: readonly string[],
): Promise<Map<string, HandledCommand>> {
  const rows = await client.query<Record & { command_id: string }>(
    schema.sql(findManySql),
    [JSON.stringify(ids)],
    { prepare: true },
  );
  return new Map(
    rows.map((row) => [
      row.command_id,
      { id: row.command_id, type: row.command_type, result: row.result?.value },
    ]),
  );
}

const sweepSql = (s: StoreSchema) => `
  WITH gone AS (
    DELETE FROM ${s.handledCommands}
     WHERE app = $1::text
       AND handled_at < now() - $2::float8 * interval '1 millisecond'
    RETURNING 1)
  SELECT count(*)::int AS n FROM gone`;

/** Deletes `app`'s command records older than `retentionMs`; returns how many. */
export async function sweepHandledCommands(
  client: SqlClient,
  schema: StoreSchema,
  app: string,
  retentionMs: number,
): Promise<number> {
  const rows = await client.query<{ n: number }>(schema.sql(sweepSql), [
    app,
    retentionMs,
  ]);
  return Number(rows[0].n);
}
