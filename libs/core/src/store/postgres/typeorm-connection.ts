import { PgSqlClient } from './pg.sql-client.js';
import { pgliteAsPg } from './pglite-as-pg.js';
import { PgliteSqlClient } from './pglite.sql-client.js';
import type { SqlClient } from './sql-client.js';
import { StoreConfigurationError } from '../store.errors.js';

/** The part of a TypeORM PostgreSQL DataSource's options that says where the database is. */
export interface TypeOrmConnectionOptions {
  readonly type: 'postgres';
  /** node-postgres options, as TypeORM passes `extra` to its pool. */
  readonly extra?: Record<string, unknown>;
  /** A node-postgres-shaped driver over the embedded database. */
  readonly driver?: object;
}

/**
 * Where Chronicle's database is, as TypeORM options: the same PostgreSQL
 * server and database, or the same embedded PGlite instance. Spread it into
 * `TypeOrmModule.forRootAsync({ inject: [SQL_CLIENT], useFactory })` and the
 * entities live beside the events in both modes, with no code change; a
 * consumer's `context.entityManager()` then commits its writes and its
 * position in one transaction.
 */
export function typeOrmConnectionOptions(
  client: SqlClient,
): TypeOrmConnectionOptions {
  if (client instanceof PgliteSqlClient) {
    return { type: 'postgres', driver: pgliteAsPg(client.database) };
  }
  if (client instanceof PgSqlClient) {
    const { connectionString, host, port, user, password, database, ssl } =
      client.connectionOptions();
    return {
      type: 'postgres',
      extra: { connectionString, host, port, user, password, database, ssl },
    };
  }
  throw new StoreConfigurationError(
    `typeOrmConnectionOptions() knows Chronicle's own clients (node-postgres and PGlite); the SqlClient ` +
      `handed in through database.client (driver "${client.driver}") is neither: configure TypeORM with its connection yourself.`,
  );
}
