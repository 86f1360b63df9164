import {
  InvalidIdError,
  InvalidMetadataError,
  UnstorableTextError,
} from './input.errors.js';

/*
 * What Chronicle accepts as ids, type names, metadata and text, checked where
 * a value comes in (a send, a request off the wire, an append, a schedule), so
 * that bad input gets a typed error there instead of a database error later
 * (jsonb refuses NUL and unpaired surrogates; a btree index refuses keys of
 * more than 2704 bytes). The limits are documented in docs/guides/microclients.md.
 */

/** The most characters (UTF-16 code units) of a message, correlation, schedule or aggregate id. */
export const MAX_ID_LENGTH = 256;
/** The most characters of a stream id (`<AggregateType>-<id>` for an aggregate's stream). */
export const MAX_STREAM_ID_LENGTH = 512;
/** The most characters of a message type name. */
export const MAX_TYPE_NAME_LENGTH = 256;
/** The most bytes of a message's user metadata as JSON (UTF-8). */
export const MAX_METADATA_BYTES = 8192;

// Control characters (C0, DEL, C1), the Unicode line and paragraph separators,
// and unpaired surrogates (with the `u` flag a well-formed pair is one code
// point, so \p{Cs} matches only a lone half).
const FORBIDDEN = /[\p{Cc}\p{Zl}\p{Zp}]|\p{Cs}/u;
const EDGE_SPACE = /^\s|\s$/;

/** Why a string cannot be an id, or undefined when it can. */
function idProblem(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return 'it must be a string';
  if (value.length === 0) return 'it is empty';
  if (value.length > max) {
    return `it has ${value.length} characters; at most ${max} are allowed`;
  }
  const bad = FORBIDDEN.exec(value);
  if (bad) {
    const code = bad[0].codePointAt(0) ?? 0;
    const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    return code >= 0xd800 && code <= 0xdfff
      ? `it holds an unpaired surrogate (${name}) at index ${bad.index}`
      : `it holds the control or line-break character ${name} at index ${bad.index}`;
  }
  if (EDGE_SPACE.test(value)) return 'it starts or ends with a space';
  return undefined;
}

/** Checks an id (message, correlation, causation, schedule, aggregate): returns it, or throws `InvalidIdError`. */
export function checkId(
  value: unknown,
  what: string,
  max = MAX_ID_LENGTH,
): string {
  const problem = idProblem(value, max);
  if (problem) throw new InvalidIdError(what, problem, value);
  return value as string;
}

/** Checks a stream id: an id of at most `MAX_STREAM_ID_LENGTH` characters. */
export function checkStreamId(value: unknown): string {
  return checkId(value, 'stream id', MAX_STREAM_ID_LENGTH);
}

/** Checks a type name: the rules of ids, at most `MAX_TYPE_NAME_LENGTH` characters. */
export function checkTypeName(value: unknown, what = 'type name'): string {
  return checkId(value, what, MAX_TYPE_NAME_LENGTH);
}

const SUBJECT_TOKENS = /^[^\s.*>]+(\.[^\s.*>]+)*$/u;

/**
 * Checks the name of a command or query type, which also becomes part of a
 * NATS subject: no spaces, `*` or `>`, and no empty part between dots.
 */
export function checkRoutedTypeName(value: unknown, what: string): string {
  checkTypeName(value, what);
  if (!SUBJECT_TOKENS.test(value as string)) {
    throw new InvalidIdError(
      what,
      'it becomes part of a NATS subject, so it may not hold spaces, "*" or ">", ' +
        'nor start, end or have two dots in a row (use e.g. "orders.PlaceOrder")',
      value,
    );
  }
  return value as string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks an id that must be a UUID (an event's: the store keeps it in a uuid column). */
export function checkUuid(value: unknown, what: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new InvalidIdError(
      what,
      'it must be a UUID (e.g. one made by newMessageId())',
      value,
    );
  }
  return value;
}

export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Keys of metadata that Chronicle sets itself and that must hold ids. */
const ID_KEYS = ['correlationId', 'causationId'] as const;

/**
 * Checks metadata given by a user or read off the wire: a plain JSON object,
 * at most `MAX_METADATA_BYTES` as JSON, with storable text, and ids where
 * Chronicle expects ids. Throws `InvalidMetadataError`, `InvalidIdError` or
 * `UnstorableTextError`.
 */
export function checkMetadata(
  value: unknown,
  what = 'metadata',
): Readonly<Record<string, unknown>> {
  if (!isPlainObject(value)) {
    throw new InvalidMetadataError(
      `The ${what} must be a plain object of JSON values (e.g. { userId: "u-1" }), not ${describe(value)}.`,
    );
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InvalidMetadataError(
      `The ${what} cannot be written as JSON: ${(error as Error).message}.`,
    );
  }
  const bytes = Buffer.byteLength(json ?? '');
  if (bytes > MAX_METADATA_BYTES) {
    throw new InvalidMetadataError(
      `The ${what} is ${bytes} bytes as JSON; at most ${MAX_METADATA_BYTES} are allowed. ` +
        'Carry references (ids) in metadata, and data in the payload.',
    );
  }
  checkStorableText(value, what);
  for (const key of ID_KEYS) {
    if (value[key] !== undefined) checkId(value[key], `${key} in ${what}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object')
    return `an instance of ${value.constructor?.name ?? 'a class'}`;
  return `a ${typeof value}`;
}

const MAX_DEPTH = 64;

/** Where a value holds text PostgreSQL refuses, or undefined when it holds none. */
export function findUnstorableText(
  value: unknown,
  path = '',
  depth = 0,
): { path: string; problem: UnstorableTextError['problem'] } | undefined {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { path, problem } : undefined;
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) {
    return undefined;
  }
  if (value instanceof Date) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, field] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const keyProblem = textProblem(key);
    if (keyProblem) {
      return { path: `the key ${JSON.stringify(at)}`, problem: keyProblem };
    }
    const found = findUnstorableText(field, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

const LONE_SURROGATE = /\p{Cs}/u;

function textProblem(text: string): UnstorableTextError['problem'] | undefined {
  if (text.includes('\u0000')) return 'a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'an unpaired surrogate';
  return undefined;
}

/** Throws `UnstorableTextError` when `value` holds text PostgreSQL refuses. */
export function checkStorableText(value: unknown, what: string): void {
  const found = findUnstorableText(value);
  if (found) throw new UnstorableTextError(what, found.path, found.problem);
}

// In JSON.stringify's output NUL is always the escape \u0000 and an unpaired
// surrogate always an escape \udXXX (a paired one is written as is), each
// preceded by an even number of backslashes (an odd one would escape the "\").
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Whether JSON text made by `JSON.stringify` holds text PostgreSQL refuses:
 * a quick test on text the store is about to send anyway.
 */
export function jsonTextIsStorable(json: string): boolean {
  return !json.includes('\\u') || !UNSTORABLE_ESCAPE.test(json);
}
