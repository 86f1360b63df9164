import { PgSqlClient } from './postgres/pg.sql-client.js';
import { PgliteSqlClient } from './postgres/pglite.sql-client.js';
import type { SqlClient } from './postgres/sql-client.js';

export interface SqlClientOptions {
  readonly url?: string;
  readonly dataDir?: string;
  readonly embedded?: boolean;
  readonly poolSize?: number;
  readonly client?: SqlClient;
}

/**
 * Picks the database: a client handed in, else `url`, else PGlite in
 * `dataDir` (or in memory when `embedded`), else `DATABASE_URL`, else PGlite
 * in memory (the embedded default).
 */
export async function openSqlClient(
  options: SqlClientOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<SqlClient> {
  if (options.client) return options.client;
  if (options.url)
    return PgSqlClient.connect(options.url, { max: options.poolSize });
  if (options.dataDir || options.embedded)
    return PgliteSqlClient.open(options.dataDir);
  if (env.DATABASE_URL) {
    return PgSqlClient.connect(env.DATABASE_URL, { max: options.poolSize });
  }
  return PgliteSqlClient.open();
}
