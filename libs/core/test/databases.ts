import { randomBytes } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import {
  PgSqlClient,
  PgliteSqlClient,
  PostgresEventStore,
  startPglite,
  type SqlClient,
} from '../src/index.js';

export const DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test uses, so tests never see each other's rows. */
export function freshSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * The databases a store suite runs against. PGlite boots in seconds, so a test
 * file shares one instance and isolates tests by schema instead.
 */
export interface TestDatabase {
  readonly name: 'postgres' | 'pglite';
  /** Whether two transactions can be open at once (PGlite is one connection). */
  readonly concurrentTransactions: boolean;
  client(): SqlClient;
  /** Another independent connection pool to the same database, as another process would have. */
  otherClient(): SqlClient;
  /** A new, migrated store in a schema of its own. */
  freshStore(): Promise<PostgresEventStore>;
  close(): Promise<void>;
}

export function postgresDatabase(): TestDatabase {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 30 });
  const others: pg.Pool[] = [];
  const schemas: string[] = [];
  const client = PgSqlClient.fromPool(pool);
  return {
    name: 'postgres',
    concurrentTransactions: true,
    client: () => client,
    otherClient() {
      const other = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
      others.push(other);
      return PgSqlClient.fromPool(other);
    },
    async freshStore() {
      const schema = freshSchema();
      schemas.push(schema);
      const store = new PostgresEventStore(client, schema);
      await store.migrate();
      return store;
    },
    async close() {
      for (const schema of schemas) {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
      await Promise.all(others.map((other) => other.end()));
      await pool.end();
    },
  };
}

export function pgliteDatabase(): TestDatabase {
  let db: PGlite | undefined;
  // Started as embedded apps start (from the saved image of a fresh data
  // directory), once for the describe block that calls this.
  beforeAll(async () => {
    db = await startPglite();
  });
  const instance = (): PGlite => {
    if (db) return db;
    throw new Error(
      'pgliteDatabase(): the database starts in a beforeAll; use it in hooks and tests, not while describing',
    );
  };
  return {
    name: 'pglite',
    concurrentTransactions: false,
    client: () => PgliteSqlClient.fromInstance(instance()),
    otherClient: () => PgliteSqlClient.fromInstance(instance()),
    async freshStore() {
      const store = new PostgresEventStore(
        PgliteSqlClient.fromInstance(instance()),
        freshSchema(),
      );
      await store.migrate();
      return store;
    },
    async close() {
      await db?.close();
    },
  };
}
