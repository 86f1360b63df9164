import type { Migration } from './migration.js';

/**
 * Durable consumers (tracking/). One row per (consumer, segment) holds its
 * checkpoint in the log's commit-safe order (transaction_id, position), the
 * instance that holds it and until when; a segment stopped by a failing event
 * keeps its error here, so every instance's health can show it.
 * `consumer_instances` are heartbeats: how many instances share a consumer,
 * hence how many segments each one should claim.
 * `consumer_resets` are replays requested from outside the app (the CLI): a
 * running instance applies them with the consumer's `@OnReset` hooks.
 * `dead_letters` keep the events a consumer skipped after its retries, with the error.
 */
export const trackingMigration: Migration = {
  version: 2,
  name: 'tracking',
  sql: (s) => `
    CREATE TABLE ${s.table('consumer_positions')} (
      consumer          text        NOT NULL,
      segment           integer     NOT NULL,
      segment_count     integer     NOT NULL,
      transaction_id    xid8        NOT NULL DEFAULT '0'::xid8,
      position          bigint      NOT NULL DEFAULT 0,
      owner             text,
      lease_expires_at  timestamptz,
      stopped           boolean     NOT NULL DEFAULT false,
      last_error        text,
      last_error_at     timestamptz,
      updated_at        timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, segment),
      CONSTRAINT consumer_positions_segment_range CHECK (segment >= 0 AND segment < segment_count)
    );

    CREATE TABLE ${s.table('consumer_instances')} (
      consumer    text        NOT NULL,
      owner       text        NOT NULL,
      expires_at  timestamptz NOT NULL,
      PRIMARY KEY (consumer, owner)
    );

    CREATE TABLE ${s.table('consumer_resets')} (
      consumer        text        PRIMARY KEY,
      transaction_id  xid8        NOT NULL,
      position        bigint      NOT NULL,
      requested_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE ${s.table('dead_letters')} (
      id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      consumer        text        NOT NULL,
      segment         integer     NOT NULL,
      event_id        uuid        NOT NULL,
      event_position  bigint      NOT NULL,
      transaction_id  xid8        NOT NULL,
      stream_id       text        NOT NULL,
      event_type      text        NOT NULL,
      attempts        integer     NOT NULL,
      error           text        NOT NULL,
      failed_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX dead_letters_consumer_idx ON ${s.table('dead_letters')} (consumer, failed_at);
  `,
};
