import type { Migration } from './migration.js';

/**
 * The events log and the record of handled commands. `transaction_id` lets
 * readers follow the log in commit-safe order (see read-all.ts).
 */
export const eventStoreMigration: Migration = {
  version: 1,
  name: 'event-store',
  sql: (s) => `
    CREATE TABLE ${s.events} (
      position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id              uuid        NOT NULL,
      stream_id       text        NOT NULL,
      stream_version  bigint      NOT NULL,
      type            text        NOT NULL,
      revision        integer     NOT NULL,
      payload         jsonb       NOT NULL,
      metadata        jsonb       NOT NULL,
      created_at      timestamptz NOT NULL,
      transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
      CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
      CONSTRAINT events_id_key UNIQUE (id),
      CONSTRAINT events_stream_version_positive CHECK (stream_version > 0)
    );
    CREATE INDEX events_transaction_position_idx ON ${s.events} (transaction_id, position);

    CREATE TABLE ${s.handledCommands} (
      command_id    text        PRIMARY KEY,
      command_type  text        NOT NULL,
      result        json,
      handled_at    timestamptz NOT NULL DEFAULT now()
    );
  `,
};
