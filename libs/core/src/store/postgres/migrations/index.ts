import { eventStoreMigration } from './0001-event-store.js';
import { schedulesMigration } from './0003-schedules.js';
import type { Migration } from './migration.js';

/** Every migration, oldest first. Append new ones; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  eventStoreMigration,
  schedulesMigration,
];

export { migrate } from './migrate.js';
export type { Migration } from './migration.js';
