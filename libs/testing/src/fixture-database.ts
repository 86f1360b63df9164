import { randomBytes } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { PgliteSqlClient, PgSqlClient, type SqlClient } from '@chronicle/core';

interface SharedPglite {
  readonly db: Promise<PGlite>;
  users: number;
  closing?: NodeJS.Timeout;
}

let shared: SharedPglite | undefined;

/**
 * One embedded database per test process: PGlite takes seconds to boot, so
 * fixtures share it and each gets a schema of its own instead.
 */
function acquirePglite(): Promise<PGlite> {
  shared ??= {
    db: import('@electric-sql/pglite').then(({ PGlite }) => PGlite.create()),
    users: 0,
  };
  clearTimeout(shared.closing);
  shared.users++;
  return shared.db;
}

/**
 * Closes the database a moment after its last fixture: the next describe's
 * fixture, created right after, still finds it open, and a test process
 * that is done can exit (an open PGlite holds a 10 s timer, which kept Jest
 * waiting after the last test).
 */
function releasePglite(): void {
  const current = shared;
  if (!current || --current.users > 0) return;
  current.closing = setTimeout(() => {
    if (shared !== current || current.users > 0) return;
    shared = undefined;
    void current.db.then((db) => db.close());
  }, 250);
  current.closing.unref();
}

/** Whether the shared embedded database is open (or opening): for tests of the above. */
export function sharedPgliteIsOpen(): boolean {
  return shared !== undefined;
}

export interface FixtureDatabase {
  readonly client: SqlClient;
  readonly schema: string;
  dispose(): Promise<void>;
}

export function freshFixtureSchema(): string {
  return `fixture_${randomBytes(6).toString('hex')}`;
}

export async function embeddedDatabase(): Promise<FixtureDatabase> {
  const client = PgliteSqlClient.fromInstance(await acquirePglite());
  const schema = freshFixtureSchema();
  return {
    client,
    schema,
    async dispose() {
      try {
        await client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        releasePglite();
      }
    },
  };
}

export async function postgresDatabase(url: string): Promise<FixtureDatabase> {
  const client = PgSqlClient.connect(url, { max: 5 });
  const schema = freshFixtureSchema();
  return {
    client,
    schema,
    async dispose() {
      await client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.close();
    },
  };
}
