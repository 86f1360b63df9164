export {
  ambientTransaction,
  runInAmbientTransaction,
  type AmbientTransaction,
} from './ambient-transaction.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
export { PgSqlClient } from './pg.sql-client.js';
export { PgliteSqlClient } from './pglite.sql-client.js';
export { startPglite } from './pglite-image.js';
export {
  PostgresEventStore,
  type PostgresEventStoreOptions,
} from './postgres-event-store.js';
export type { GroupCommitOptions, GroupCommitStats } from './group-commit.js';
export { LOG_COLUMNS, logValues } from './append-sql.js';
export {
  isConnectionFailure,
  isUniqueViolation,
  sqlStateOf,
  type SqlClient,
  type SqlParameter,
} from './sql-client.js';
export { segmentOf, segmentReads } from './read-all.js';
export { type RebaseReport } from './rebase-transaction-ids.js';
export { checkSchemaName, StoreSchema } from './store-schema.js';
export {
  typeOrmConnectionOptions,
  type TypeOrmConnectionOptions,
} from './typeorm-connection.js';
