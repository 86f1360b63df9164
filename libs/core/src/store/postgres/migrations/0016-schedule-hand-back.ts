import type { Migration } from './migration.js';

/**
 * A schedule may name what to write when it dies (`on_dead`: a schedule type
 * and payload): the process managers' sent commands hand their death back to
 * the instance that sent them, written in the statement that buries the row,
 * by whichever app buried it (see ScheduleStore.bury).
 */
export const scheduleHandBackMigration: Migration = {
  version: 16,
  name: 'schedule-hand-back',
  sql: (s) => `
    ALTER TABLE ${s.table('schedules')} ADD COLUMN on_dead jsonb;
  `,
};
