import 'reflect-metadata';
import type { MessageClass } from '../messages/index.js';

/** Metadata key read once, at bootstrap, by `ErrorHandlers`. */
export const HANDLE_ERROR_METADATA = 'chronicle:handle-error';

/** What `@HandleError` takes: a message class (command, query, event, schedule payload) or a type name. */
export type ErrorSourceType = MessageClass | string;

/**
 * Marks a provider method as a handler of error messages: the failures of
 * handling messages of the given types (classes or type names), or of every
 * type when none is given. It gets a `HandlingFailed`:
 * `@HandleError(PlaceOrder) alert(failed: HandlingFailed)`. One instance of
 * each app that declares it handles each error message.
 */
export function HandleError(...types: ErrorSourceType[]): MethodDecorator {
  return (target, key) => {
    const earlier =
      (Reflect.getMetadata(HANDLE_ERROR_METADATA, target, key) as
        ErrorSourceType[] | undefined) ?? [];
    Reflect.defineMetadata(
      HANDLE_ERROR_METADATA,
      [...earlier, ...types],
      target,
      key,
    );
    // `@HandleError()` alone: every type.
    if (types.length === 0) {
      Reflect.defineMetadata(HANDLE_ALL_METADATA, true, target, key);
    }
  };
}

export const HANDLE_ALL_METADATA = 'chronicle:handle-error-all';
