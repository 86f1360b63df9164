import type { Migration } from './migration.js';

/**
 * Messages to deliver later (scheduling/). One row per schedule id: a periodic
 * schedule is one row re-armed after each occurrence. `claim_token` and
 * `claimed_until` are the lease of the instance delivering it: a row whose
 * lease ran out (its instance died) is claimed again. `delivery_id` is the id
 * of the current occurrence's message, the same on every retry, so a command
 * delivered twice is handled once.
 */
export const schedulesMigration: Migration = {
  version: 3,
  name: 'schedules',
  sql: (s) => `
    CREATE TABLE ${s.table('schedules')} (
      id             text        PRIMARY KEY,
      kind           text        NOT NULL,
      type           text        NOT NULL,
      revision       integer     NOT NULL,
      payload        jsonb,
      metadata       jsonb       NOT NULL,
      due_at         timestamptz NOT NULL,
      occurrence_at  timestamptz NOT NULL,
      periodic       jsonb,
      delivery_id    uuid        NOT NULL,
      status         text        NOT NULL DEFAULT 'scheduled',
      attempts       integer     NOT NULL DEFAULT 0,
      last_error     text,
      claim_token    uuid,
      claimed_until  timestamptz,
      created_at     timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT schedules_kind_check CHECK (kind IN ('command', 'schedule', 'method')),
      CONSTRAINT schedules_status_check CHECK (status IN ('scheduled', 'dead'))
    );
    CREATE INDEX schedules_due_idx ON ${s.table('schedules')} (due_at) WHERE status = 'scheduled';
  `,
};
