import type { Migration } from './migration.js';

/**
 * Process managers (processes/). One `process_instances` row per instance
 * (process name and association key): its state as JSON, whether it is live
 * or ended, and a version counting its steps. One `process_steps` row per
 * event an instance handled: its history, and what makes a replay of the
 * log (a consumer reset) pass over the events an instance has seen already.
 * Both are written in the transaction of the consumer's position.
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
      event_position  bigint      NOT NULL,
      handler         text        NOT NULL,
      commands        jsonb       NOT NULL DEFAULT '[]',
      handled_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (name, key, event_id)
    );
  `,
};
