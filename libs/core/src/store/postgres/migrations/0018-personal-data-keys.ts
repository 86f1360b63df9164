import type { Migration } from './migration.js';

/**
 * One data key per data subject (see security/personal-data): the personal
 * fields of events are sealed with it, and forgetting the subject deletes the
 * row, which leaves every copy of those fields unreadable. Ciphertexts name
 * the random `key_id`, never the subject. `key` is the data key, wrapped with
 * the master key when one is configured (`m1.` prefix), else in clear (`p1.`).
 */
export const personalDataKeysMigration: Migration = {
  version: 18,
  name: 'personal-data-keys',
  sql: (s) => `
    CREATE TABLE ${s.table('personal_data_keys')} (
      subject_id  text        PRIMARY KEY,
      key_id      uuid        NOT NULL UNIQUE,
      key         text        NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
  `,
};
