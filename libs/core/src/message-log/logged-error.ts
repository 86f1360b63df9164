import { ErrorTypeRegistry, outcomeOf } from '../messages/index.js';
import type { LoggedError, LoggedOutcome } from './log-entry.js';

/**
 * A thrown value as the log keeps it: its class, its code (a Chronicle
 * error's code, or a declared error's type name), its message, and its stack
 * only when asked for.
 */
export function loggedErrorOf(error: unknown, stacks: boolean): LoggedError {
  if (!(error instanceof Error)) {
    return { name: typeof error, message: String(error) };
  }
  const fields = error as Error & { code?: unknown; errorType?: unknown };
  const declared = ErrorTypeRegistry.forError(error);
  const code =
    typeof fields.code === 'string'
      ? fields.code
      : declared !== undefined
        ? declared.name
        : typeof fields.errorType === 'string'
          ? fields.errorType
          : undefined;
  return {
    name: error.name,
    ...(code !== undefined && { code }),
    message: error.message,
    ...(stacks && error.stack !== undefined && { stack: error.stack }),
  };
}

/** `rejected` or `failed`, as the metrics and spans say it. */
export function loggedOutcomeOf(error: unknown): LoggedOutcome {
  return outcomeOf(error);
}
