import { randomBytes } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import {
  PgliteSqlClient,
  PgSqlClient,
  startPglite,
  type SqlClient,
} from '@chronicle/core';

/**
 * Embedded databases no fixture is using, kept for the next one: PGlite takes
 * seconds to boot, so the fixtures of a test process reuse it, each in fresh
 * schemas. A fixture holds its database alone (a second fixture open at the
 * same time gets another), because the search_path that sends its projection
 * tables to its own schema is a setting of PGlite's one session.
 */
const idle: PGlite[] = [];
let open = 0;
let closing: NodeJS.Timeout | undefined;

async function acquirePglite(): Promise<PGlite> {
  clearTimeout(closing);
  const reused = idle.pop();
  if (reused) return reused;
  open++;
  try {
    // From the saved image of a fresh data directory: no initdb per fixture.
    return await startPglite();
  } catch (error) {
    open--;
    throw error;
  }
}

/**
 * Closes the databases a moment after the last fixture let go: the next
 * describe's fixture, created right after, still finds one open, and a test
 * process that is done can exit (an open PGlite holds a 10 s timer, which
 * kept Jest waiting after the last test).
 */
function releasePglite(db: PGlite): void {
  idle.push(db);
  if (idle.length < open) return;
  closing = setTimeout(() => {
    const unused = idle.splice(0);
    open -= unused.length;
    for (const each of unused) void each.close();
  }, 250);
  closing.unref();
}

/** How many embedded databases are open (in use or kept): for tests of the above. */
export function embeddedDatabasesOpen(): number {
  return open;
}

export interface FixtureDatabase {
  readonly client: SqlClient;
  /** The fixture's schema for Chronicle's tables. */
  readonly schema: string;
  /** The fixture's schema for the app's own tables: its SQL's search_path starts there. */
  readonly projectionSchema: string;
  dispose(): Promise<void>;
}

export function freshFixtureSchema(): string {
  return `fixture_${randomBytes(6).toString('hex')}`;
}

/**
 * Drops the fixture's schemas: Chronicle's, the projection schema, and every
 * consumer's own (named `<projection schema>_...`).
 */
async function dropSchemas(
  client: SqlClient,
  database: { schema: string; projectionSchema: string },
): Promise<void> {
  const consumers = await client.query<{ name: string }>(
    "SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1::text || '_')",
    [database.projectionSchema],
  );
  const names = [
    database.schema,
    database.projectionSchema,
    ...consumers.map((c) => c.name),
  ];
  await client.exec(
    names.map((name) => `DROP SCHEMA IF EXISTS "${name}" CASCADE;`).join(' '),
  );
}

export async function embeddedDatabase(): Promise<FixtureDatabase> {
  const db = await acquirePglite();
  const schema = freshFixtureSchema();
  const projectionSchema = `${schema}_projections`;
  const client = PgliteSqlClient.fromInstance(db);
  const database = { client, schema, projectionSchema };
  try {
    await db.exec(
      `CREATE SCHEMA "${projectionSchema}"; SET search_path TO "${projectionSchema}", public;`,
    );
  } catch (error) {
    releasePglite(db);
    throw error;
  }
  return {
    ...database,
    async dispose() {
      try {
        await dropSchemas(client, database);
        await db.exec('RESET search_path;');
      } finally {
        releasePglite(db);
      }
    },
  };
}

export async function postgresDatabase(url: string): Promise<FixtureDatabase> {
  const schema = freshFixtureSchema();
  const projectionSchema = `${schema}_projections`;
  const client = PgSqlClient.connect(url, { max: 5, projectionSchema });
  const database = { client, schema, projectionSchema };
  try {
    await client.exec(`CREATE SCHEMA "${projectionSchema}"`);
  } catch (error) {
    await client.close();
    throw error;
  }
  return {
    ...database,
    async dispose() {
      try {
        await dropSchemas(client, database);
      } finally {
        await client.close();
      }
    },
  };
}
