import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { sqlStateOf, type SqlClient } from '../store/index.js';
import type {
  CollectionDefinition,
  IndexDefinition,
} from './collection-definition.js';

/** Instances starting together take turns preparing one schema's collections. */
const DOCUMENTS_LOCK = 0x43_48_44_43; // "CHDC"
/** How often an instance asks for the lock again while another holds it. */
const LOCK_POLL_MS = 50;

const logger = new Logger('Chronicle documents');

/** What preparing a collection changed: index (and search column) names made and dropped. */
export interface CollectionChanges {
  readonly created: readonly string[];
  readonly dropped: readonly string[];
}

/** What the transaction left to do outside it: concurrent builds and drops. */
interface Concurrent {
  /** Invalid ones (a concurrent build that failed), dropped before building them again. */
  readonly invalid: readonly string[];
  readonly create: readonly IndexDefinition[];
  readonly drop: readonly string[];
}

/**
 * Makes the collection's table, search column and declared indexes, and
 * drops the indexes it no longer declares, so a restart with the same
 * declaration changes nothing. Each index is named after its definition, so
 * a changed declaration drops one name and creates another; the search
 * column keeps a digest of its expression as its comment, and is made again
 * when text fields or language change.
 *
 * Instances starting at once take turns by an advisory lock keyed by the
 * schema. A new or empty table gets its indexes in one transaction. On
 * PostgreSQL, a table that holds documents gets them with CREATE (and DROP)
 * INDEX CONCURRENTLY after that transaction, so writes go on while they
 * build; a build that failed leaves an invalid index, which the next start
 * drops and builds again. PGlite is one session: a concurrent build would
 * block its writes all the same, so it builds in the transaction.
 */
export async function prepareCollection(
  client: SqlClient,
  collection: CollectionDefinition,
): Promise<CollectionChanges> {
  if (!client.session || client.inTransaction)
    return client.transaction((tx) => prepareTables(tx, collection, false));
  return client.session(async (session) => {
    await lockSession(session, collection.schema);
    try {
      const changes = await session.transaction((tx) =>
        prepareTables(tx, collection, true),
      );
      if (!changes.concurrent) return changes;
      return await buildConcurrently(session, collection, changes);
    } finally {
      await session.query(
        'SELECT pg_advisory_unlock($1::int, hashtext($2::text))',
        [DOCUMENTS_LOCK, collection.schema],
      );
    }
  });
}

/**
 * Takes the schema's lock for this session, asking again until it is free.
 * Not by waiting in pg_advisory_lock: a waiting statement holds a snapshot,
 * which the other instance's concurrent build waits for in turn (a deadlock).
 */
async function lockSession(session: SqlClient, schema: string): Promise<void> {
  for (;;) {
    const [row] = await session.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1::int, hashtext($2::text)) AS locked',
      [DOCUMENTS_LOCK, schema],
    );
    if (row.locked) return;
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/** The table, its search column, and its indexes when they can be made here (else what to do after). */
async function prepareTables(
  tx: SqlClient,
  collection: CollectionDefinition,
  canConcurrently: boolean,
): Promise<CollectionChanges & { concurrent?: Concurrent }> {
  const { schema, table, tableName } = collection;
  // Taken again by a session that holds it already, it is granted at once.
  await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))', [
    DOCUMENTS_LOCK,
    schema,
  ]);
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
    // Dropping the column drops its index with it. Adding a stored
    // generated column rewrites the table under its lock anyway: its index
    // is built in the same transaction.
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
  const existing = await tx.query<{ name: string; valid: boolean }>(
    `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = $1::regclass AND starts_with(c.relname, $2::text)`,
    [table, `${tableName}_i`],
  );
  const wanted = new Set(collection.indexes.map((i) => i.name));
  // Under the lock no other instance is building: an invalid index is a
  // concurrent build that failed (or whose process died), and is useless.
  const invalid = existing.filter((e) => !e.valid).map((e) => e.name);
  const present = new Set(existing.filter((e) => e.valid).map((e) => e.name));
  const create = collection.indexes.filter((i) => !present.has(i.name));
  const drop = [...present].filter((name) => !wanted.has(name));
  if (invalid.length > 0) {
    logger.warn(
      `Collection "${collection.name}": index ${invalid.join(', ')} is invalid (a concurrent build failed): dropping it and building it again`,
    );
  }
  if (
    canConcurrently &&
    create.length + drop.length + invalid.length > 0 &&
    (await holdsDocuments(tx, table))
  ) {
    return { created, dropped, concurrent: { invalid, create, drop } };
  }
  for (const name of [...invalid, ...drop]) {
    await tx.exec(`DROP INDEX "${schema}"."${name}"`);
    dropped.push(name);
  }
  for (const index of create) {
    const started = performance.now();
    await tx.exec(`CREATE INDEX "${index.name}" ON ${table} ${index.method}`);
    logBuild(collection, index, 'in the start transaction', started);
    created.push(index.name);
  }
  return { created, dropped };
}

async function holdsDocuments(tx: SqlClient, table: string): Promise<boolean> {
  const [row] = await tx.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT FROM ${table}) AS any`,
  );
  return row.any;
}

/**
 * Outside any transaction, on the session that holds the lock: drops the
 * invalid indexes, builds the missing ones, then drops the ones no longer
 * declared (so a changed index is served by the old one until the new one
 * is ready). A build that fails drops what it left and throws.
 */
async function buildConcurrently(
  session: SqlClient,
  collection: CollectionDefinition,
  changes: CollectionChanges & { concurrent?: Concurrent },
): Promise<CollectionChanges> {
  const { schema, table } = collection;
  const { invalid, create, drop } = changes.concurrent as Concurrent;
  const created = [...changes.created];
  const dropped = [...changes.dropped];
  for (const name of invalid) {
    await session.exec(
      `DROP INDEX CONCURRENTLY IF EXISTS "${schema}"."${name}"`,
    );
    dropped.push(name);
  }
  for (const index of create) {
    const started = performance.now();
    try {
      await session.exec(
        `CREATE INDEX CONCURRENTLY "${index.name}" ON ${table} ${index.method}`,
      );
    } catch (error) {
      await session
        .exec(`DROP INDEX CONCURRENTLY IF EXISTS "${schema}"."${index.name}"`)
        .catch(() => undefined);
      throw error;
    }
    logBuild(collection, index, 'concurrently', started);
    created.push(index.name);
  }
  for (const name of drop) {
    await session.exec(
      `DROP INDEX CONCURRENTLY IF EXISTS "${schema}"."${name}"`,
    );
    dropped.push(name);
  }
  return { created, dropped };
}

function logBuild(
  collection: CollectionDefinition,
  index: IndexDefinition,
  how: string,
  started: number,
): void {
  logger.log(
    `Collection "${collection.name}": built index ${index.name} on ${index.path} (${index.using}) ${how}, in ${Math.round(performance.now() - started)} ms`,
  );
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
