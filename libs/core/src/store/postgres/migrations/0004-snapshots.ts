import type { Migration } from './migration.js';

/**
 * Aggregate snapshots: a cache of an aggregate's state at one stream version,
 * tagged with the aggregate type's snapshot revision so that a snapshot of an
 * older state shape is ignored, never misread. Written after commit, outside
 * the command's transaction (see aggregates/snapshots).
 */
export const snapshotsMigration: Migration = {
  version: 4,
  name: 'snapshots',
  sql: (s) => `
    CREATE TABLE ${s.table('snapshots')} (
      stream_id       text        NOT NULL,
      stream_version  bigint      NOT NULL,
      aggregate_type  text        NOT NULL,
      revision        integer     NOT NULL,
      state           jsonb       NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (stream_id, stream_version)
    );
  `,
};
