import { sqlStateOf, type SqlClient } from '../store/index.js';
import type { CollectionDefinition } from './collection-definition.js';

/** Instances starting together take turns preparing one schema's collections. */
const DOCUMENTS_LOCK = 0x43_48_44_43; // "CHDC"

/** What preparing a collection changed: index (and search column) names made and dropped. */
export interface CollectionChanges {
  readonly created: readonly string[];
  readonly dropped: readonly string[];
}

/**
 * Makes the collection's table, search column and declared indexes, and
 * drops the indexes it no longer declares: under an advisory lock keyed by
 * the schema, in one transaction, so instances starting at once take turns
 * and a restart with the same declaration changes nothing. Each index is
 * named after its definition, so a changed declaration drops one name and
 * creates another; the search column keeps a digest of its expression as
 * its comment, and is made again when text fields or language change.
 */
export async function prepareCollection(
  client: SqlClient,
  collection: CollectionDefinition,
): Promise<CollectionChanges> {
  const { schema, table, tableName } = collection;
  return client.transaction(async (tx) => {
    await tx.query(
      'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))',
      [DOCUMENTS_LOCK, schema],
    );
    await createSchema(tx, schema);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (
        id text PRIMARY KEY,
        revision integer NOT NULL,
        body jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const created: string[] = [];
    const dropped: string[] = [];
    const [search] = await tx.query<{ digest: string | null }>(
      `SELECT col_description(a.attrelid, a.attnum) AS digest FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attname = 'search' AND NOT a.attisdropped`,
      [table],
    );
    if ((search?.digest ?? undefined) !== collection.searchDigest) {
      // Dropping the column drops its index with it.
      if (search) {
        await tx.exec(`ALTER TABLE ${table} DROP COLUMN search`);
        dropped.push('search');
      }
      if (collection.searchExpression) {
        await tx.exec(
          `ALTER TABLE ${table} ADD COLUMN search tsvector GENERATED ALWAYS AS (${collection.searchExpression}) STORED`,
        );
        await tx.exec(
          `CREATE INDEX "${tableName}_search" ON ${table} USING gin (search)`,
        );
        await tx.exec(
          `COMMENT ON COLUMN ${table}.search IS '${collection.searchDigest}'`,
        );
        created.push('search');
      }
    }
    const existing = await tx.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes
        WHERE schemaname = $1::text AND tablename = $2::text AND starts_with(indexname, $3::text)`,
      [schema, tableName, `${tableName}_i`],
    );
    const wanted = new Set(collection.indexes.map((i) => i.name));
    for (const { name } of existing) {
      if (wanted.has(name)) continue;
      await tx.exec(`DROP INDEX "${schema}"."${name}"`);
      dropped.push(name);
    }
    const present = new Set(existing.map((e) => e.name));
    for (const index of collection.indexes) {
      if (present.has(index.name)) continue;
      await tx.exec(`CREATE INDEX "${index.name}" ON ${table} ${index.method}`);
      created.push(index.name);
    }
    return { created, dropped };
  });
}

/** CREATE SCHEMA IF NOT EXISTS, which can still collide with another part of the app making it at once. */
async function createSchema(tx: SqlClient, schema: string): Promise<void> {
  await tx.exec('SAVEPOINT chronicle_documents_schema');
  try {
    await tx.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await tx.exec('RELEASE SAVEPOINT chronicle_documents_schema');
  } catch (error) {
    if (sqlStateOf(error) !== '23505' && sqlStateOf(error) !== '42P06')
      throw error;
    await tx.exec('ROLLBACK TO SAVEPOINT chronicle_documents_schema');
    await tx.exec('RELEASE SAVEPOINT chronicle_documents_schema');
  }
}
