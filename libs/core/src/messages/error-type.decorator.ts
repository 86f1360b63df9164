import { ErrorTypeRegistry, type ErrorClass } from './error-type.registry.js';

/**
 * Gives an error class a stable name, e.g. `library.BookAlreadyLent`, so that
 * it crosses the wire as itself: a caller in another app that has loaded the
 * class gets an instance of it (`instanceof` holds), with its message and its
 * own enumerable fields as JSON made them; never its stack. Serving apps log
 * it as a business outcome, not as a failure. Undeclared errors reach other
 * apps as a `RemoteHandlerError` with the code `HANDLER_FAILED` only.
 */
export function ErrorType(name: string): ClassDecorator {
  if (!name || typeof name !== 'string' || name.trim() !== name) {
    throw new TypeError(
      `An error type needs a non-empty name without surrounding spaces, got ${JSON.stringify(name)}`,
    );
  }
  return ((target: ErrorClass) => {
    if (!(target.prototype instanceof Error)) {
      throw new TypeError(
        `@ErrorType('${name}') is on ${target.name}, which does not extend Error. ` +
          'Declare error classes only (class BookAlreadyLent extends Error, or ChronicleError).',
      );
    }
    ErrorTypeRegistry.register({ name, target });
  }) as ClassDecorator;
}
