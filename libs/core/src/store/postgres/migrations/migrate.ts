import type { SqlClient } from '../sql-client.js';
import type { StoreSchema } from '../store-schema.js';
import type { Migration } from './migration.js';

/** First key of the advisory lock that serializes migrations of one schema. */
export const MIGRATION_LOCK = 0x43_48_52_4e; // "CHRN"

/**
 * Brings the schema up to date in one transaction. An advisory lock keyed by the
 * schema name makes concurrent starts wait for each other, and each migration
 * runs once: running this again, or from several processes at once, is safe.
 * Returns the versions it applied.
 */
export async function migrate(
  client: SqlClient,
  schema: StoreSchema,
  migrations: readonly Migration[],
): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query(
      'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))',
      [MIGRATION_LOCK, schema.name],
    );
    await tx.exec(`
      CREATE SCHEMA IF NOT EXISTS ${schema.quoted};
      CREATE TABLE IF NOT EXISTS ${schema.migrations} (
        version     integer     PRIMARY KEY,
        name        text        NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      );
    `);
    const rows = await tx.query<{ version: number }>(
      `SELECT version FROM ${schema.migrations}`,
    );
    const applied = new Set(rows.map((row) => Number(row.version)));
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await tx.exec(migration.sql(schema));
      await tx.query(
        `INSERT INTO ${schema.migrations} (version, name) VALUES ($1::int, $2::text)`,
        [migration.version, migration.name],
      );
      done.push(migration.version);
    }
    return done;
  });
}
