import type { LoggedError, LoggedKind, LoggedOutcome } from './log-entry.js';

/**
 * One row of the message log as the API gives it: plain JSON (instants as
 * ISO 8601 strings, positions as strings), so it can go over HTTP as it is.
 */
export interface LoggedMessage {
  readonly kind: LoggedKind;
  readonly id: string;
  readonly type: string;
  readonly revision: number | null;
  /** As logged: `@PersonalData` and `@Secret` fields hold `***`. */
  readonly payload: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  /** The app and instance that handled it, and the app that sent it. */
  readonly app: string | null;
  readonly instance: string | null;
  readonly senderApp: string | null;
  /** When the handling started. */
  readonly loggedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly outcome: LoggedOutcome;
  /** What the handler returned; absent when it returned nothing or failed. */
  readonly result?: unknown;
  readonly error: LoggedError | null;
  /** The streams a command appended to, and the positions its events got. */
  readonly streams: readonly string[];
  readonly positions: readonly string[];
}

/** A `message_log` row as the statements of this folder select it (`LOG_ROW_COLUMNS`). */
export interface LogRow {
  kind: string;
  logged_at_text: string;
  id: string;
  type: string;
  revision: number | null;
  payload: unknown;
  metadata: Record<string, unknown> | null;
  correlation_id: string | null;
  causation_id: string | null;
  app: string | null;
  instance: string | null;
  sender_app: string | null;
  finished_at: Date | string | null;
  duration_ms: number | null;
  outcome: string;
  result: { value?: unknown } | null;
  error: LoggedError | null;
  error_code: string | null;
  streams: string[] | null;
  positions: string[] | null;
}

export function loggedMessageOf(row: LogRow): LoggedMessage {
  return {
    kind: row.kind as LoggedKind,
    id: row.id,
    type: row.type,
    revision: row.revision,
    payload: row.payload,
    metadata: row.metadata ?? {},
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    app: row.app,
    instance: row.instance,
    senderApp: row.sender_app,
    loggedAt: isoOf(row.logged_at_text),
    finishedAt: row.finished_at === null ? null : isoOf(row.finished_at),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    outcome: row.outcome as LoggedOutcome,
    ...(row.result !== null &&
      row.result.value !== undefined && { result: row.result.value }),
    error: row.error,
    streams: row.streams ?? [],
    positions: row.positions ?? [],
  };
}

/** An instant as ISO 8601, from a Date or PostgreSQL's text form of a timestamptz. */
export function isoOf(value: Date | string): string {
  if (value instanceof Date) return value.toISOString();
  // "2026-12-04 18:43:30.123456+00" parses once its offset has minutes.
  const iso = value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  return new Date(iso).toISOString();
}
