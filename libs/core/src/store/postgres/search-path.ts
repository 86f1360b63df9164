import { MIGRATION_LOCK } from './migrations/migrate.js';
import type { SqlClient } from './sql-client.js';

/**
 * The search_path of an app's own SQL: its projection schema first, so that
 * unqualified `CREATE TABLE loans` and `SELECT ... FROM loans` land there,
 * then `public`, where extensions usually live. Chronicle's own statements
 * name their schema and do not depend on it.
 */
export function searchPathOf(projectionSchema: string): string {
  return projectionSchema === 'public'
    ? 'public'
    : `${projectionSchema},public`;
}

/**
 * `url` with the search_path in its `options` parameter, the startup options
 * node-postgres sends for every connection of a pool (and of TypeORM's pool
 * when it is handed this URL). Options the URL (or `PGOPTIONS`) already had are
 * kept: a parameter in the URL would override a separate `options` setting.
 */
export function withSearchPath(
  url: string,
  projectionSchema: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const start = url.indexOf('?');
  const base = start < 0 ? url : url.slice(0, start);
  const params = new URLSearchParams(start < 0 ? '' : url.slice(start + 1));
  const options = [
    params.get('options') ?? env.PGOPTIONS,
    `-c search_path=${searchPathOf(projectionSchema)}`,
  ].filter((option) => option && option.trim() !== '');
  params.set('options', options.join(' '));
  return `${base}?${params.toString()}`;
}

/**
 * Creates the projection schema if it is missing. Instances starting together
 * take turns (the migrations' advisory lock, keyed by the name), because two
 * concurrent `CREATE SCHEMA IF NOT EXISTS` can still collide.
 */
export async function createProjectionSchema(
  client: SqlClient,
  projectionSchema: string,
): Promise<void> {
  await client.transaction(async (tx) => {
    await tx.query(
      'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))',
      [MIGRATION_LOCK, projectionSchema],
    );
    await tx.exec(`CREATE SCHEMA IF NOT EXISTS "${projectionSchema}"`);
  });
}
