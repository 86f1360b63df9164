import type { Migration } from './migration.js';

/**
 * A consumer may keep its events in order by a key of its own rather than
 * by stream (`sequenceBy`; process managers use their association key):
 * each of its segments then reads every event of its types and handles
 * those whose key hashes to it. `sequenced_by` says which, so lag and
 * progress count what each segment has to read. A parked stream remembers
 * the segment that parked it, as its stream no longer says.
 */
export const sequencedByKeyMigration: Migration = {
  version: 17,
  name: 'sequenced-by-key',
  sql: (s) => `
    ALTER TABLE ${s.table('consumer_positions')} ADD COLUMN sequenced_by text NOT NULL DEFAULT 'stream';
    ALTER TABLE ${s.table('parked_streams')} ADD COLUMN segment int;
  `,
};
