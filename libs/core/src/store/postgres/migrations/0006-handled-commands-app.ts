import type { Migration } from './migration.js';

/**
 * Which app handled each command: apps sharing one store each keep their own
 * command records, for their own retention, and sweep only those. Records
 * written before this migration have no app (NULL) and are kept: see the
 * commands guide for deleting them.
 */
export const handledCommandsAppMigration: Migration = {
  version: 6,
  name: 'handled-commands-app',
  sql: (s) => `
    ALTER TABLE ${s.handledCommands} ADD COLUMN app text;
    CREATE INDEX handled_commands_app_handled_at_idx
      ON ${s.handledCommands} (app, handled_at);
  `,
};
