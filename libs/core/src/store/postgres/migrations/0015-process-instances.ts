import type { Migration } from './migration.js';

/**
 * Process managers (processes/). One `process_instances` row per instance
 * (process name and association key): its state as JSON, whether it is live
 * or ended, a version counting its steps, and its open deadlines (name to
 * schedule id, due time and token). One `process_steps` row per event or
 * deadline an instance handled (a deadline has no log position): its
 * history, and what makes a replay of the log (a consumer reset) pass over
 * the events an instance has seen already. Both are written in the
 * transaction of the consumer's position (or of the deadline's delivery).
 */
export const processInstancesMigration: Migration = {
  version: 15,
  name: 'process-instances',
  sql: (s) => `
    CREATE TABLE ${s.table('process_instances')} (
      name        text        NOT NULL,
      key         text        NOT NULL,
      state       jsonb       NOT NULL,
      status      text        NOT NULL CHECK (status IN ('live', 'ended')),
      version     integer     NOT NULL,
      deadlines   jsonb       NOT NULL DEFAULT '{}',
      started_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now(),
      ended_at    timestamptz,
      PRIMARY KEY (name, key)
    );

    CREATE TABLE ${s.table('process_steps')} (
      name            text        NOT NULL,
      key             text        NOT NULL,
      event_id        uuid        NOT NULL,
      event_type      text        NOT NULL,
      event_position  bigint,
      handler         text        NOT NULL,
      commands        jsonb       NOT NULL DEFAULT '[]',
      handled_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (name, key, event_id)
    );
  `,
};
