import type { Migration } from './migration.js';

/**
 * What consumers read and ask for.
 * - An index for reads filtered by type, in the log's order: a consumer of a
 *   rare type catching up over a long log reads its events, not the log.
 *   (On a large existing table the build blocks appends while it runs; build
 *   it beforehand with CREATE INDEX CONCURRENTLY under this name to avoid that.)
 * - A requested replay keeps what was asked (the beginning, a date, a
 *   position), not a checkpoint resolved by the requester: the consumer
 *   resolves it when it applies it, capped at the safe horizon in the same
 *   statement. Rows from before keep their checkpoint (`checkpoint`).
 */
export const consumerReadsMigration: Migration = {
  version: 5,
  name: 'consumer-reads',
  sql: (s) => `
    CREATE INDEX IF NOT EXISTS events_type_order_idx ON ${s.events} (type, transaction_id, position);

    ALTER TABLE ${s.table('consumer_resets')}
      ALTER COLUMN transaction_id DROP NOT NULL,
      ALTER COLUMN position DROP NOT NULL,
      ADD COLUMN target_kind text NOT NULL DEFAULT 'checkpoint',
      ADD COLUMN target_at timestamptz,
      ADD COLUMN target_position bigint,
      ADD CONSTRAINT consumer_resets_target_kind
        CHECK (target_kind IN ('beginning', 'date', 'position', 'checkpoint'));
  `,
};
