import type { Migration } from './migration.js';

/**
 * Commands sent with `sendAndForget` are stored as schedules due at once, of
 * kind `send`, delivered only by instances that handle them. Their
 * `delivery_id` is the command's own id, which a caller may have chosen: any
 * text, no longer only a UUID.
 */
export const sendsMigration: Migration = {
  version: 8,
  name: 'sends',
  sql: (s) => `
    ALTER TABLE ${s.table('schedules')} DROP CONSTRAINT schedules_kind_check;
    ALTER TABLE ${s.table('schedules')} ADD CONSTRAINT schedules_kind_check
      CHECK (kind IN ('command', 'schedule', 'method', 'send'));
    ALTER TABLE ${s.table('schedules')} ALTER COLUMN delivery_id TYPE text;
  `,
};
