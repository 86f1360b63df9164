import { ChronicleError } from './chronicle.error.js';

/** A value as an error message can show it: quoted, escaped, and cut short. */
export function previewForError(value: unknown, max = 60): string {
  if (typeof value !== 'string') {
    if (value === null) return 'null';
    return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
  }
  const shown = JSON.stringify(
    value.length > max ? value.slice(0, max) : value,
  );
  return value.length > max
    ? `${shown}... (${value.length} characters)`
    : shown;
}

/**
 * An id or a type name that Chronicle cannot carry or store: not a string,
 * empty, too long, with control characters or line breaks, with an unpaired
 * surrogate, or with spaces at either end. Nothing was sent or stored.
 */
export class InvalidIdError extends ChronicleError {
  readonly code = 'INVALID_ID';

  constructor(
    /** What the value is: `message id`, `stream id`, `schedule id`, `event type`... */
    readonly what: string,
    /** What is wrong with it, e.g. `it has 3000 characters; at most 256 are allowed`. */
    readonly reason: string,
    value: unknown,
  ) {
    super(
      `Invalid ${what} ${previewForError(value)}: ${reason}. ` +
        'See "Limits" in docs/guides/microclients.md for what ids and type names may hold.',
    );
  }
}

/** Metadata that is not a JSON object of bounded size, or misuses a reserved key. */
export class InvalidMetadataError extends ChronicleError {
  readonly code = 'INVALID_METADATA';
}

/**
 * Text PostgreSQL cannot store: a NUL character (`\u0000`) or an unpaired
 * surrogate, anywhere in a payload, a result or metadata (jsonb and text
 * refuse both). Nothing was stored.
 */
export class UnstorableTextError extends ChronicleError {
  readonly code = 'UNSTORABLE_TEXT';

  constructor(
    /** What holds it: `payload of orders.PlaceOrder`, `metadata`... */
    readonly what: string,
    /** Where in it, e.g. `lines[0].note`; empty for the value itself. */
    readonly path: string,
    readonly problem: 'a NUL character (\\u0000)' | 'an unpaired surrogate',
  ) {
    super(
      `The ${what} holds text PostgreSQL cannot store: ${problem} ` +
        `${path ? `at ${path}` : 'in it'}. Remove it, or encode binary data (base64) before sending it.`,
    );
  }
}
