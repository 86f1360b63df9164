import type { ErrorClass } from './error-type.registry.js';

/** A declared error's data as JSON carries it: its own enumerable fields. */
export type ErrorFields = Record<string, unknown>;

/**
 * The fields of a declared error that travel with it: its own enumerable
 * properties (constructor parameters, class fields), as JSON writes them.
 * `message` and `stack` are not enumerable and go their own ways (the stack
 * never leaves the app). A field JSON cannot write (a BigInt, a cycle) goes
 * as a string saying so, rather than failing the whole reply.
 */
export function errorFields(error: Error): ErrorFields | undefined {
  const keys = Object.keys(error);
  if (keys.length === 0) return undefined;
  const fields: ErrorFields = {};
  for (const key of keys) {
    const value = (error as unknown as Record<string, unknown>)[key];
    try {
      const text = JSON.stringify(value);
      if (text !== undefined) fields[key] = JSON.parse(text) as unknown;
    } catch (reason) {
      fields[key] =
        `[not JSON: ${reason instanceof Error ? reason.message : String(reason)}]`;
    }
  }
  return fields;
}

/**
 * An instance of `target` with the message and fields another app sent,
 * made without running its constructor (whose parameters are not on the
 * wire): `instanceof` and the class's methods work, the fields are as JSON
 * made them (a Date is its ISO string). Its stack is the caller's own.
 */
export function rebuildError<T extends Error>(
  target: ErrorClass<T>,
  message: string,
  fields: ErrorFields | undefined,
): T {
  const error = Object.create(target.prototype as object) as T;
  Object.defineProperty(error, 'message', {
    value: message,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  for (const [key, value] of Object.entries(fields ?? {})) {
    // Defined, not assigned: a getter on the class must not swallow the value.
    Object.defineProperty(error, key, {
      value,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
  Error.captureStackTrace(error, rebuildError);
  return error;
}
