import { randomBytes } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { PgliteSqlClient, PgSqlClient, type SqlClient } from '@chronicle/core';

let shared: Promise<PGlite> | undefined;

/**
 * One embedded database per test process: PGlite takes seconds to boot, so
 * fixtures share it and each gets a schema of its own instead.
 */
async function sharedPglite(): Promise<PGlite> {
  shared ??= import('@electric-sql/pglite').then(({ PGlite }) =>
    PGlite.create(),
  );
  return shared;
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
  const client = PgliteSqlClient.fromInstance(await sharedPglite());
  const schema = freshFixtureSchema();
  return {
    client,
    schema,
    dispose: () => client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
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
