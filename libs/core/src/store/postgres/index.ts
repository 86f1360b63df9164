export {
  runInAmbientTransaction,
  type AmbientTransaction,
} from './ambient-transaction.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
export { PgSqlClient } from './pg.sql-client.js';
export { PgliteSqlClient } from './pglite.sql-client.js';
export { PostgresEventStore } from './postgres-event-store.js';
export {
  isUniqueViolation,
  sqlStateOf,
  type SqlClient,
  type SqlParameter,
} from './sql-client.js';
export { segmentOf } from './read-all.js';
export { type RebaseReport } from './rebase-transaction-ids.js';
export { StoreSchema } from './store-schema.js';
export {
  typeOrmConnectionOptions,
  type TypeOrmConnectionOptions,
} from './typeorm-connection.js';
