import type { Migration } from './migration.js';

/**
 * Consumers now read the log in windows of `limit` events in log order and
 * filter by type inside the window (read-all.ts): the type index of migration
 * 5 is no longer read, and every append paid for it.
 */
export const dropTypeIndexMigration: Migration = {
  version: 7,
  name: 'drop-type-index',
  sql: (s) => `
    DROP INDEX IF EXISTS ${s.table('events_type_order_idx')};
  `,
};
