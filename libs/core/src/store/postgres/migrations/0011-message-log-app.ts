import type { Migration } from './migration.js';

/**
 * Searching the log by app: without this index, a search for an app that
 * handles few of the messages walks the whole log back in time (over 100 ms
 * at 1,000,000 rows for an app with 1% of them; see docs/benchmarks.md). It
 * costs each logged row one more index entry.
 */
export const messageLogAppMigration: Migration = {
  version: 11,
  name: 'message-log-app',
  sql: (s) => `
    CREATE INDEX message_log_app ON ${s.table('message_log')} (app, logged_at, id);
  `,
};
