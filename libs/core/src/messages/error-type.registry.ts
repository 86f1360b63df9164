import { DuplicateErrorTypeError } from './error-type.errors.js';

/** A class whose instances are errors. */
export type ErrorClass<T extends Error = Error> = abstract new (
  ...args: never[]
) => T;

export interface ErrorTypeInfo {
  /** The stable name the error travels under, e.g. `library.BookAlreadyLent`. */
  readonly name: string;
  readonly target: ErrorClass;
}

const byName = new Map<string, ErrorTypeInfo>();
const byClass = new Map<ErrorClass, ErrorTypeInfo>();

/**
 * The process-wide map between stable error names and error classes, filled
 * by `@ErrorType` when the classes are defined. A caller rebuilds an error
 * that comes back from another app as its class only when that class is
 * registered here, i.e. when the caller has loaded it.
 */
export const ErrorTypeRegistry = {
  register(info: ErrorTypeInfo): void {
    const existing = byName.get(info.name);
    if (existing && existing.target !== info.target) {
      throw new DuplicateErrorTypeError(
        info.name,
        existing.target.name,
        info.target.name,
      );
    }
    byName.set(info.name, info);
    byClass.set(info.target, info);
  },

  forName(name: string): ErrorTypeInfo | undefined {
    return byName.get(name);
  },

  forClass(target: ErrorClass): ErrorTypeInfo | undefined {
    return byClass.get(target);
  },

  /**
   * The declared type of an error: its class's, else that of the nearest
   * declared class it extends (a subclass travels as its declared parent).
   */
  forError(error: unknown): ErrorTypeInfo | undefined {
    if (!(error instanceof Error)) return undefined;
    for (
      let prototype = Object.getPrototypeOf(error) as object | null;
      prototype && prototype !== Error.prototype;
      prototype = Object.getPrototypeOf(prototype) as object | null
    ) {
      const info = byClass.get(prototype.constructor as ErrorClass);
      if (info) return info;
    }
    return undefined;
  },
};
