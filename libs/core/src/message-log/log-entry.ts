import type { MessageLogRecord } from '../store/index.js';
import { maskPayload } from './masking.js';

/** What the log keeps: handled commands, queries (when asked), schedule deliveries, errors. */
export type LoggedKind = 'command' | 'query' | 'schedule' | 'error';

export const LOGGED_KINDS: readonly LoggedKind[] = [
  'command',
  'query',
  'schedule',
  'error',
];

/**
 * How a handling ended: `ok`; `rejected`, the message was refused (a
 * declared error, a validation error, an id that names nothing); `failed`,
 * anything else the handler threw.
 */
export type LoggedOutcome = 'ok' | 'rejected' | 'failed';

/** A failure as the log keeps it (the stack only when the app's debug option says so). */
export interface LoggedError {
  /** The error's class, e.g. `InsufficientFunds`. */
  readonly name: string;
  readonly code?: string;
  readonly message: string;
  readonly stack?: string;
}

/** One handling of one message, as it goes into the log. */
export interface LogEntry {
  readonly kind: LoggedKind;
  readonly id: string;
  readonly type: string;
  readonly revision?: number;
  /** The message itself; fields its class marks `@PersonalData` or `@Secret` are masked. */
  readonly payload: unknown;
  /** The message instance, when there is one: its class says which fields to mask. */
  readonly message?: object;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The app and instance that handled it. */
  readonly app?: string;
  readonly instance?: string;
  /** The app that sent it, when it came over the transport from a named app. */
  readonly senderApp?: string;
  readonly receivedAt: Date;
  readonly finishedAt: Date;
  readonly outcome: LoggedOutcome;
  readonly result?: unknown;
  readonly error?: LoggedError;
}

/** An entry as its row's columns, with masked payload and result. */
export function toLogRecord(entry: LogEntry): MessageLogRecord {
  const metadata = entry.metadata;
  return {
    kind: entry.kind,
    logged_at: entry.receivedAt.toISOString(),
    id: entry.id,
    type: entry.type,
    revision: entry.revision ?? null,
    payload: maskPayload(entry.message, entry.payload) ?? null,
    metadata,
    correlation_id: stringOrNull(metadata.correlationId),
    causation_id: stringOrNull(metadata.causationId),
    app: entry.app ?? null,
    instance: entry.instance ?? null,
    sender_app: entry.senderApp ?? null,
    finished_at: entry.finishedAt.toISOString(),
    duration_ms: entry.finishedAt.getTime() - entry.receivedAt.getTime(),
    outcome: entry.outcome,
    // Wrapped, so that `undefined` and `null` results stay apart.
    result: entry.result === undefined ? null : { value: entry.result },
    error: entry.error ?? null,
    error_code: entry.error?.code ?? null,
  };
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
