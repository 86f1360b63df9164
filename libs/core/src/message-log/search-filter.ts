import { ChronicleError } from '../messages/index.js';
import type { SqlParameter, StoreSchema } from '../store/index.js';
import {
  LOGGED_KINDS,
  type LoggedKind,
  type LoggedOutcome,
} from './log-entry.js';

/** A JSON value a payload field may be matched against. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * What to look for in the message log. Every field narrows the search; none
 * given lists everything, newest first.
 */
export interface MessageLogFilter {
  readonly kind?: LoggedKind | readonly LoggedKind[];
  /** Stable type names, e.g. `orders.PlaceOrder`. */
  readonly type?: string | readonly string[];
  /** The app that handled the message. */
  readonly app?: string | readonly string[];
  readonly outcome?: LoggedOutcome | readonly LoggedOutcome[];
  /** `true`: only rows whose outcome is not `ok` (rejected or failed). */
  readonly failed?: boolean;
  /** Rows logged at or after this instant. */
  readonly since?: Date;
  /** Rows logged before this instant. */
  readonly until?: Date;
  readonly correlationId?: string;
  /** A stream (aggregate) id the command appended to, e.g. `orders.Order-o-42`. */
  readonly stream?: string;
  /**
   * Payload fields, matched by JSON containment: `{ customerId: 'c-1' }`
   * finds payloads holding that field with that value (nested objects match
   * the same way). Masked fields hold `***`, so they never match their value.
   */
  readonly where?: Readonly<Record<string, JsonValue>>;
}

/** Which page: at most `limit` rows (default 50, at most 1000), after `after`. */
export interface MessageLogPage {
  readonly limit?: number;
  /** The `next` cursor of the page before. */
  readonly after?: string;
}

export const DEFAULT_SEARCH_LIMIT = 50;
export const MAX_SEARCH_LIMIT = 1000;

const OUTCOMES: readonly LoggedOutcome[] = ['ok', 'rejected', 'failed'];

/** A search filter or page that cannot work; `field` names it. */
export class MessageLogSearchError extends ChronicleError {
  readonly code = 'MESSAGE_LOG_SEARCH';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Where a page ended: the last row's exact `logged_at` (as PostgreSQL prints it) and id. */
interface Cursor {
  readonly loggedAt: string;
  readonly id: string;
}

/** Opaque to callers: base64url of `[logged_at text, id]`. */
export function encodeCursor(loggedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([loggedAt, id])).toString('base64url');
}

/** A timestamptz as PostgreSQL prints it (ISO DateStyle). */
const TIMESTAMP =
  /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?([+-]\d\d(:\d\d)?|Z)?$/;

function decodeCursor(cursor: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    !TIMESTAMP.test(parsed[0])
  ) {
    throw new MessageLogSearchError(
      'after',
      `"${cursor}" is not a cursor this log gave out; pass the "next" of an earlier page.`,
    );
  }
  return { loggedAt: parsed[0], id: parsed[1] };
}

/** The statement of one search: its text and parameters, and how many rows to read. */
export interface SearchStatement {
  readonly text: string;
  readonly params: SqlParameter[];
  /** The page's size; one more row is read to know whether a next page exists. */
  readonly limit: number;
}

export const LOG_ROW_COLUMNS = `kind, logged_at::text AS logged_at_text, id, type, revision, payload, metadata,
  correlation_id, causation_id, app, instance, sender_app, finished_at, duration_ms,
  outcome, result, error, error_code, streams, positions::text[] AS positions`;

/**
 * Checks a filter and builds its statement. Each condition is one an index
 * serves: type (type, logged_at, id); failures the partial index (so the
 * `outcome <> 'ok'` stays literal, which the planner needs to match it);
 * correlation its own; stream and payload the GIN indexes; the time range and
 * the cursor (logged_at, id), read backwards for newest first.
 */
export function searchStatement(
  s: StoreSchema,
  filter: MessageLogFilter,
  page: MessageLogPage = {},
): SearchStatement {
  const params: SqlParameter[] = [];
  const param = (value: SqlParameter): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const conditions: string[] = [];
  const oneOf = (column: string, values: readonly string[]) =>
    conditions.push(
      values.length === 1
        ? `${column} = ${param(values[0])}`
        : `${column} IN (${values.map((v) => param(v)).join(', ')})`,
    );

  const unknownField = Object.keys(filter).find((k) => !FILTER_FIELDS.has(k));
  if (unknownField !== undefined) {
    throw new MessageLogSearchError(
      unknownField,
      `no such filter; use ${[...FILTER_FIELDS].join(', ')}.`,
    );
  }
  const kinds = listOf(filter.kind, 'kind');
  for (const kind of kinds) {
    if (!LOGGED_KINDS.includes(kind)) {
      throw new MessageLogSearchError(
        'kind',
        `"${kind}" is no kind of the log; use ${LOGGED_KINDS.join(', ')}.`,
      );
    }
  }
  if (kinds.length > 0) oneOf('kind', kinds);
  const types = listOf(filter.type, 'type');
  if (types.length > 0) oneOf('type', types);
  const apps = listOf(filter.app, 'app');
  if (apps.length > 0) oneOf('app', apps);

  const outcomes = listOf(filter.outcome, 'outcome');
  for (const outcome of outcomes) {
    if (!OUTCOMES.includes(outcome)) {
      throw new MessageLogSearchError(
        'outcome',
        `"${outcome}" is no outcome; use ${OUTCOMES.join(', ')}.`,
      );
    }
  }
  if (filter.failed !== undefined && typeof filter.failed !== 'boolean') {
    throw new MessageLogSearchError('failed', 'must be true or false.');
  }
  if (filter.failed === true && outcomes.includes('ok')) {
    throw new MessageLogSearchError(
      'outcome',
      '"ok" contradicts failed: true; drop one of them.',
    );
  }
  if (outcomes.length > 0) oneOf('outcome', outcomes);
  if (
    filter.failed === true ||
    (outcomes.length > 0 && !outcomes.includes('ok'))
  )
    conditions.push(`outcome <> 'ok'`);
  if (filter.failed === false) conditions.push(`outcome = 'ok'`);

  const since = instant(filter.since, 'since');
  const until = instant(filter.until, 'until');
  if (since) conditions.push(`logged_at >= ${param(since)}::timestamptz`);
  if (until) conditions.push(`logged_at < ${param(until)}::timestamptz`);

  if (filter.correlationId !== undefined)
    conditions.push(
      `correlation_id = ${param(text(filter.correlationId, 'correlationId'))}`,
    );
  if (filter.stream !== undefined)
    conditions.push(
      `streams @> ARRAY[${param(text(filter.stream, 'stream'))}::text]`,
    );
  if (filter.where !== undefined) {
    const where = filter.where as unknown;
    if (
      where === null ||
      typeof where !== 'object' ||
      Array.isArray(where) ||
      Object.keys(where).length === 0
    ) {
      throw new MessageLogSearchError(
        'where',
        'must be an object of payload fields and values, e.g. { customerId: "c-1" }.',
      );
    }
    conditions.push(`payload @> ${param(JSON.stringify(where))}::text::jsonb`);
  }

  const limit = page.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new MessageLogSearchError(
      'limit',
      `must be a whole number from 1 to ${MAX_SEARCH_LIMIT}, got ${String(limit)}.`,
    );
  }
  if (page.after !== undefined) {
    const cursor = decodeCursor(page.after);
    conditions.push(
      `(logged_at, id) < (${param(cursor.loggedAt)}::timestamptz, ${param(cursor.id)}::text)`,
    );
  }
  const where =
    conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const order = `ORDER BY logged_at DESC, id DESC LIMIT ${param(limit + 1)}`;
  // PostgreSQL keeps no statistics for array elements as rare as one stream's
  // id, guesses thousands of matches, and would walk the whole log back in
  // time filtering; a stream's rows are few: find them by index, then sort.
  const sql =
    filter.stream !== undefined
      ? `SELECT * FROM (SELECT logged_at, ${LOG_ROW_COLUMNS} FROM ${s.messageLog} ${where} OFFSET 0) found ${order}`
      : `SELECT ${LOG_ROW_COLUMNS} FROM ${s.messageLog} ${where} ${order}`;
  return { text: sql, params, limit };
}

const FILTER_FIELDS = new Set([
  'kind',
  'type',
  'app',
  'outcome',
  'failed',
  'since',
  'until',
  'correlationId',
  'stream',
  'where',
]);

function listOf<T extends string>(
  value: T | readonly T[] | undefined,
  field: string,
): readonly T[] {
  if (value === undefined) return [];
  const list: readonly unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0) {
    throw new MessageLogSearchError(
      field,
      'an empty list matches nothing; leave it out.',
    );
  }
  for (const item of list) text(item, field);
  return list as readonly T[];
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new MessageLogSearchError(
      field,
      `must be a non-empty string, got ${JSON.stringify(value) ?? String(value)}.`,
    );
  }
  return value;
}

function instant(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new MessageLogSearchError(field, 'must be a valid Date.');
  }
  return value.toISOString();
}
