import { ErrorTypeRegistry } from './error-type.registry.js';
import { ValidationError } from './validation.error.js';

/**
 * How a handling that threw ended, for metrics and spans: `rejected` when the
 * handler refused the message by its rules (a declared `@ErrorType` error, or
 * a `ValidationError`), `failed` for anything else (a bug, the database away,
 * a conflict that outlived its retries).
 */
export function outcomeOf(error: unknown): 'rejected' | 'failed' {
  if (error instanceof ValidationError) return 'rejected';
  if (ErrorTypeRegistry.forError(error)) return 'rejected';
  // A declared error relayed from a further app whose class is not loaded here.
  const relayed = (error as { errorType?: unknown } | null)?.errorType;
  return typeof relayed === 'string' ? 'rejected' : 'failed';
}
