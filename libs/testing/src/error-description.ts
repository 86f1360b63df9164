import { inspect, isDeepStrictEqual } from 'node:util';
import { ErrorTypeRegistry, RemoteHandlerError } from '@chronicle/core';

// How a scenario tells what an action failed with, and why an expected
// error class did not arrive as itself.

export type ErrorClass = abstract new (...args: never[]) => Error;

export function describeError(error: unknown): string {
  if (error instanceof RemoteHandlerError) {
    const what = error.errorType ?? error.remoteName;
    return `RemoteHandlerError (${what}, ${error.code}): ${error.message}`;
  }
  return error instanceof Error
    ? `${error.name}: ${error.message}`
    : inspect(error);
}

/** Why an error from another app did not arrive as the expected class, when we can tell. */
export function hintFor(type: ErrorClass, error: unknown): string {
  if (!(error instanceof RemoteHandlerError)) return '';
  if (error.errorType) {
    return `\n  (it was declared as @ErrorType('${error.errorType}') in the app that threw it, but no class of that name is loaded here)`;
  }
  if (ErrorTypeRegistry.forClass(type)) return '';
  if (error.code === 'HANDLER_FAILED') {
    return `\n  (${type.name} has no @ErrorType: from another app an undeclared error arrives as a RemoteHandlerError with the code HANDLER_FAILED; declare it, e.g. @ErrorType('context.${type.name}'))`;
  }
  return `\n  (from another app, an error without @ErrorType arrives as a RemoteHandlerError with its code: expect RemoteHandlerError with { code: '${error.code}' })`;
}

export function fieldMatches(expected: unknown, actual: unknown): boolean {
  if (
    typeof expected === 'object' &&
    expected !== null &&
    typeof (expected as { asymmetricMatch?: unknown }).asymmetricMatch ===
      'function'
  ) {
    return (
      expected as { asymmetricMatch(other: unknown): boolean }
    ).asymmetricMatch(actual);
  }
  return isDeepStrictEqual(actual, expected);
}
