import type { Migration } from './migration.js';

/**
 * Forgotten subjects, recorded (see security/personal-data): `forgetSubject`
 * appends a row in the transaction that deletes the key, so an app that was
 * not running when a subject was forgotten still hears of it when it starts.
 * Rows are appended under a table lock, so `seq` order is commit order and a
 * follower's watermark (`forgotten_subjects_followers.seq`, the last row it
 * applied) never passes a row that commits later. The id kept is the
 * subject's pseudonymous id, no personal data.
 */
export const forgottenSubjectsMigration: Migration = {
  version: 19,
  name: 'forgotten-subjects',
  sql: (s) => `
    CREATE TABLE ${s.table('forgotten_subjects')} (
      seq           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      subject_id    text        NOT NULL,
      forgotten_at  timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE TABLE ${s.table('forgotten_subjects_followers')} (
      follower    text        PRIMARY KEY,
      seq         bigint      NOT NULL DEFAULT 0,
      applied_at  timestamptz NOT NULL DEFAULT now()
    );
  `,
};
