import type { Migration } from './migration.js';

/**
 * When each consumer segment's checkpoint last moved (reading, a reset, a
 * replay), by the database's clock, so every instance's health can tell a
 * segment that is wedged from one that is slowly catching up. `updated_at`
 * moved with the checkpoint until now, so existing rows start from it.
 */
export const checkpointMovedMigration: Migration = {
  version: 9,
  name: 'checkpoint-moved',
  sql: (s) => `
    ALTER TABLE ${s.table('consumer_positions')}
      ADD COLUMN checkpoint_moved_at timestamptz NOT NULL DEFAULT now();
    UPDATE ${s.table('consumer_positions')} SET checkpoint_moved_at = updated_at;
  `,
};
