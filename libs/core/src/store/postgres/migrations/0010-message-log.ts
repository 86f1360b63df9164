import type { Migration } from './migration.js';

/**
 * The message log: one row per handled command, schedule delivery, error
 * and (when asked for) query. Partitioned by kind and day, so that each kind
 * keeps its own retention and old days go by dropping a table, never by
 * DELETE (see message-log/partitions). Days get their partitions ahead of
 * time; the default partition only catches rows written while none existed.
 */
export const messageLogMigration: Migration = {
  version: 10,
  name: 'message-log',
  sql: (s) => `
    CREATE TABLE ${s.table('message_log')} (
      kind text NOT NULL,
      logged_at timestamptz NOT NULL,
      id text NOT NULL,
      type text NOT NULL,
      revision integer,
      payload jsonb,
      metadata jsonb NOT NULL DEFAULT '{}',
      correlation_id text,
      causation_id text,
      app text,
      instance text,
      sender_app text,
      finished_at timestamptz,
      duration_ms double precision,
      outcome text NOT NULL,
      result jsonb,
      error jsonb,
      error_code text,
      streams text[],
      positions bigint[]
    ) PARTITION BY RANGE (kind, logged_at);
    CREATE TABLE ${s.table('message_log_default')}
      PARTITION OF ${s.table('message_log')} DEFAULT;
    CREATE INDEX message_log_id ON ${s.table('message_log')} (id);
    CREATE INDEX message_log_time ON ${s.table('message_log')} (logged_at, id);
    CREATE INDEX message_log_type ON ${s.table('message_log')} (type, logged_at, id);
    CREATE INDEX message_log_correlation ON ${s.table('message_log')} (correlation_id);
    CREATE INDEX message_log_failures ON ${s.table('message_log')} (logged_at, id)
      WHERE outcome <> 'ok';
    CREATE INDEX message_log_payload ON ${s.table('message_log')}
      USING gin (payload jsonb_path_ops);
    CREATE INDEX message_log_streams ON ${s.table('message_log')}
      USING gin (streams);
  `,
};
