import type { Migration } from './migration.js';

/**
 * The streams index holds only rows that appended: most logged rows (queries,
 * errors, commands that appended nothing) have none, and each still cost a
 * GIN entry on the hot path. A search by stream (`streams @> ARRAY[...]`)
 * implies `streams IS NOT NULL`, so it still uses the index.
 */
export const messageLogStreamsPartialMigration: Migration = {
  version: 14,
  name: 'message-log-streams-partial',
  sql: (s) => `
    DROP INDEX ${s.table('message_log_streams')};
    CREATE INDEX message_log_streams ON ${s.table('message_log')}
      USING gin (streams) WHERE streams IS NOT NULL;
  `,
};
