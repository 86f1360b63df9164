import { eventStoreMigration } from './0001-event-store.js';
import { trackingMigration } from './0002-tracking.js';
import { schedulesMigration } from './0003-schedules.js';
import { snapshotsMigration } from './0004-snapshots.js';
import { consumerReadsMigration } from './0005-consumer-reads.js';
import { handledCommandsAppMigration } from './0006-handled-commands-app.js';
import { dropTypeIndexMigration } from './0007-drop-type-index.js';
import { sendsMigration } from './0008-sends.js';
import { checkpointMovedMigration } from './0009-checkpoint-moved.js';
import { messageLogMigration } from './0010-message-log.js';
import { messageLogAppMigration } from './0011-message-log-app.js';
import { parkedStreamsMigration } from './0012-parked-streams.js';
import { consumerVersionsMigration } from './0013-consumer-versions.js';
import { messageLogStreamsPartialMigration } from './0014-message-log-streams-partial.js';
import { processInstancesMigration } from './0015-process-instances.js';
import { scheduleHandBackMigration } from './0016-schedule-hand-back.js';
import { sequencedByKeyMigration } from './0017-sequenced-by-key.js';
import { personalDataKeysMigration } from './0018-personal-data-keys.js';
import { forgottenSubjectsMigration } from './0019-forgotten-subjects.js';
import type { Migration } from './migration.js';

/** Every migration, oldest first. Append new ones; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  eventStoreMigration,
  trackingMigration,
  schedulesMigration,
  snapshotsMigration,
  consumerReadsMigration,
  handledCommandsAppMigration,
  dropTypeIndexMigration,
  sendsMigration,
  checkpointMovedMigration,
  messageLogMigration,
  messageLogAppMigration,
  parkedStreamsMigration,
  consumerVersionsMigration,
  messageLogStreamsPartialMigration,
  processInstancesMigration,
  scheduleHandBackMigration,
  sequencedByKeyMigration,
  personalDataKeysMigration,
  forgottenSubjectsMigration,
];

export { migrate } from './migrate.js';
export type { Migration } from './migration.js';
