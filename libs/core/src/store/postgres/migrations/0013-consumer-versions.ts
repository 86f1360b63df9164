import type { Migration } from './migration.js';

/**
 * The versions of each consumer that declares tables (blue-green rebuilds):
 * which one is live (the one reads go to: at most one per consumer), which
 * one is being built beside it, which ones were replaced and when their
 * schema may be dropped. A version's positions are kept under its tracked
 * name in consumer_positions (`<consumer>` for version 1, `<consumer>@v<n>`
 * after), so two versions of one consumer never share a checkpoint.
 */
export const consumerVersionsMigration: Migration = {
  version: 13,
  name: 'consumer-versions',
  sql: (s) => `
    CREATE TABLE ${s.table('consumer_versions')} (
      consumer text NOT NULL,
      version int NOT NULL,
      schema_name text NOT NULL,
      status text NOT NULL CHECK (status IN ('building', 'live', 'retired')),
      created_at timestamptz NOT NULL DEFAULT now(),
      switched_at timestamptz,
      drop_after timestamptz,
      dropped_at timestamptz,
      PRIMARY KEY (consumer, version)
    );
    CREATE UNIQUE INDEX consumer_versions_live ON ${s.table('consumer_versions')} (consumer)
      WHERE status = 'live';
  `,
};
