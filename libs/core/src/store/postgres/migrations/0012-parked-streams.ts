import type { Migration } from './migration.js';

/**
 * Sequenced dead letters (the `park` policy of tracking/). A stream whose
 * event failed every retry is parked for that consumer: one `parked_streams`
 * row (the last error, the attempts of its first parked event, a pending
 * retry request) and one `parked_events` row per event held back, the
 * failing one first, in stream order. The events themselves stay in `events`
 * (found by position), so no transaction id is copied here. Deleting the
 * stream row (a drop) takes its events with it.
 */
export const parkedStreamsMigration: Migration = {
  version: 12,
  name: 'parked-streams',
  sql: (s) => `
    CREATE TABLE ${s.table('parked_streams')} (
      consumer            text        NOT NULL,
      stream_id           text        NOT NULL,
      error               text        NOT NULL,
      attempts            integer     NOT NULL,
      parked_at           timestamptz NOT NULL DEFAULT now(),
      failed_at           timestamptz NOT NULL DEFAULT now(),
      retry_requested_at  timestamptz,
      PRIMARY KEY (consumer, stream_id)
    );

    CREATE TABLE ${s.table('parked_events')} (
      consumer        text        NOT NULL,
      stream_id       text        NOT NULL,
      stream_version  bigint      NOT NULL,
      event_position  bigint      NOT NULL,
      event_id        uuid        NOT NULL,
      event_type      text        NOT NULL,
      parked_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, stream_id, stream_version),
      FOREIGN KEY (consumer, stream_id) REFERENCES ${s.table('parked_streams')} (consumer, stream_id)
        ON DELETE CASCADE
    );
  `,
};
