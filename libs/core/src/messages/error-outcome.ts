import { ErrorTypeRegistry } from './error-type.registry.js';
import { ValidationError } from './validation.error.js';

/*
 * Chronicle's own errors that say the message was wrong, not the app: its
 * aggregate does not exist, an id or metadata is unusable, the payload cannot
 * be read or stored, an id was reused for another type.
 */
const REFUSED_INPUT: ReadonlySet<string> = new Set([
  'AGGREGATE_NOT_FOUND',
  'COMMAND_ID_REUSED',
  'INVALID_ID',
  'INVALID_METADATA',
  'MALFORMED_MESSAGE',
  'REQUEST_TOO_LARGE',
  'UNKNOWN_MESSAGE_TYPE',
  'UNSTORABLE_TEXT',
  'UNSUPPORTED_REVISION',
  'VALIDATION_FAILED',
]);

/**
 * How a handling that threw ended, for metrics and spans: `rejected` when the
 * message was refused by the handler's rules (a declared `@ErrorType` error)
 * or was itself wrong (a `ValidationError`, an aggregate that does not exist,
 * an unusable id...); `failed` for anything else: a bug, the database away, a
 * conflict that outlived its retries. An alert on `failed` is about the app.
 */
export function outcomeOf(error: unknown): 'rejected' | 'failed' {
  if (error instanceof ValidationError) return 'rejected';
  if (ErrorTypeRegistry.forError(error)) return 'rejected';
  const fields = error as { errorType?: unknown; code?: unknown } | null;
  // A declared error relayed from a further app whose class is not loaded here.
  if (typeof fields?.errorType === 'string') return 'rejected';
  return typeof fields?.code === 'string' && REFUSED_INPUT.has(fields.code)
    ? 'rejected'
    : 'failed';
}
