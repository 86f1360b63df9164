import { PgSqlClient } from './postgres/pg.sql-client.js';
import { PgliteSqlClient } from './postgres/pglite.sql-client.js';
import { createProjectionSchema } from './postgres/search-path.js';
import type { SqlClient } from './postgres/sql-client.js';

export interface SqlClientOptions {
  readonly url?: string;
  readonly dataDir?: string;
  readonly embedded?: boolean;
  readonly poolSize?: number;
  readonly client?: SqlClient;
  /**
   * The schema unqualified names resolve to in the opened client's SQL (its
   * search_path: this schema, then `public`); created if missing. Not applied
   * to a `client` handed in: its connections are its owner's.
   */
  readonly projectionSchema?: string;
}

/**
 * Picks the database: a client handed in, else `url`, else PGlite in
 * `dataDir` (or in memory when `embedded`), else `DATABASE_URL`, else PGlite
 * in `CHRONICLE_DATA_DIR`, else PGlite in memory (the embedded default).
 * The environment comes after the code's options, and a server before a
 * folder, so one setting of `DATABASE_URL` moves an app off its embedded store.
 */
export async function openSqlClient(
  options: SqlClientOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<SqlClient> {
  if (options.client) return options.client;
  const { projectionSchema } = options;
  const url =
    options.url ||
    (options.dataDir || options.embedded ? undefined : env.DATABASE_URL);
  const client = url
    ? PgSqlClient.connect(url, { max: options.poolSize, projectionSchema })
    : await PgliteSqlClient.open(
        options.dataDir ||
          (options.embedded ? undefined : env.CHRONICLE_DATA_DIR || undefined),
        { projectionSchema },
      );
  if (projectionSchema) {
    try {
      await createProjectionSchema(client, projectionSchema);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }
  return client;
}
