import { createRequire } from 'node:module';
import { instanceToPlain, plainToInstance } from 'class-transformer';
import type { MessageClass } from './message-type.registry.js';

/**
 * A message instance as plain JSON. class-transformer runs so that `@Exclude`,
 * `@Expose` and `@Transform` on message classes are honoured.
 */
export function toPayload(message: object): Record<string, unknown> {
  // Fast path: an undecorated class whose fields hold only JSON-like data (no
  // nested class instances, which may carry decorators of their own, no Dates).
  if (withoutTransforms(message.constructor) && holdsPlainData(message, 0)) {
    return { ...(message as Record<string, unknown>) };
  }
  return instanceToPlain(message) as Record<string, unknown>;
}

const MAX_PLAIN_DEPTH = 8;

/** Whether every field, all the way down, is a primitive, an array or a plain object. */
function holdsPlainData(value: object, depth: number): boolean {
  if (depth > MAX_PLAIN_DEPTH) return false;
  for (const field of Object.values(value)) {
    if (field === null || typeof field !== 'object') {
      if (
        typeof field === 'function' ||
        typeof field === 'bigint' ||
        typeof field === 'symbol'
      ) {
        return false;
      }
      continue;
    }
    const prototype = Object.getPrototypeOf(field) as unknown;
    if (prototype !== Object.prototype && prototype !== Array.prototype)
      return false;
    if (!holdsPlainData(field as object, depth + 1)) return false;
  }
  return true;
}

/**
 * Rebuilds a message instance from its JSON form. Nested classes and dates
 * need `@Type(() => ...)` on their properties, as usual with class-transformer.
 */
export function fromPayload<T extends object>(
  target: MessageClass<T>,
  payload: unknown,
): T {
  return payloadReaderOf(target)(payload);
}

/** Builds instances of one message class from JSON payloads. */
export type PayloadReader<T extends object = object> = (payload: unknown) => T;

const readers = new WeakMap<object, PayloadReader>();

/**
 * `fromPayload` for one class, with the choice of path made once: readers
 * that rebuild many events (aggregate loading) keep it per type.
 */
export function payloadReaderOf<T extends object>(
  target: MessageClass<T>,
): PayloadReader<T> {
  let reader = readers.get(target) as PayloadReader<T> | undefined;
  if (!reader) {
    const slow: PayloadReader<T> = (payload) =>
      plainToInstance(
        target as unknown as new () => T,
        payload as Record<string, unknown>,
      );
    if (withoutTransforms(target)) {
      const assign = plainAssigner(target);
      reader = (payload) =>
        isPlainRecord(payload) ? assign(payload) : slow(payload);
    } else {
      reader = slow;
    }
    readers.set(target, reader as PayloadReader);
  }
  return reader;
}

/*
 * The fast path. Every stored event read (rehydration, consumers) and every
 * message off the wire comes through here, and for a class that carries no
 * class-transformer decorator plainToInstance only builds the instance and
 * copies the fields: about 3 µs an event, most of a consumer's own cost. We
 * take the path only when class-transformer's metadata storage positively
 * shows no decorator on the class or its ancestors; if its internals ever
 * change shape, every class goes the slow, always-correct way.
 */

interface TransformerStorage {
  readonly _typeMetadatas: Map<unknown, unknown>;
  readonly _transformMetadatas: Map<unknown, unknown>;
  readonly _exposeMetadatas: Map<unknown, unknown>;
  readonly _excludeMetadatas: Map<unknown, unknown>;
}

const storage = ((): TransformerStorage | undefined => {
  try {
    const loaded = createRequire(import.meta.url)(
      'class-transformer/cjs/storage.js',
    ) as {
      defaultMetadataStorage?: Partial<TransformerStorage>;
    };
    const s = loaded.defaultMetadataStorage;
    const maps = [
      s?._typeMetadatas,
      s?._transformMetadatas,
      s?._exposeMetadatas,
      s?._excludeMetadatas,
    ];
    return maps.every((m) => m instanceof Map)
      ? (s as TransformerStorage)
      : undefined;
  } catch {
    return undefined;
  }
})();

const plainClasses = new WeakMap<object, boolean>();

function withoutTransforms(target: object): boolean {
  if (!storage) return false;
  let plain = plainClasses.get(target);
  if (plain === undefined) {
    plain = true;
    for (
      let k: unknown = target;
      typeof k === 'function' && k !== Function.prototype;
      k = Object.getPrototypeOf(k)
    ) {
      if (
        storage._typeMetadatas.has(k) ||
        storage._transformMetadatas.has(k) ||
        storage._exposeMetadatas.has(k) ||
        storage._excludeMetadatas.has(k)
      ) {
        plain = false;
        break;
      }
    }
    plainClasses.set(target, plain);
  }
  return plain;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function descriptorOf(
  prototype: object | null,
  key: string,
): PropertyDescriptor | undefined {
  for (
    let p = prototype;
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p) as object | null
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(p, key);
    if (descriptor) return descriptor;
  }
  return undefined;
}

const MAX_CACHED_KEYS = 256;

/**
 * What plainToInstance does for an undecorated class: construct, then copy
 * fields. Whether the class lets a key be copied (no getter without setter,
 * no method of that name on its prototypes) is decided once per key.
 */
function plainAssigner<T extends object>(
  target: MessageClass<T>,
): (payload: Record<string, unknown>) => T {
  const prototype = (target as unknown as { prototype: object }).prototype;
  const copyable = new Map<string, boolean>();
  const canCopy = (key: string): boolean => {
    let can = copyable.get(key);
    if (can === undefined) {
      // Like class-transformer: a getter without setter, or a method, is not
      // overwritten (class-transformer throws for an inherited getter; we skip it).
      const descriptor = descriptorOf(prototype, key);
      can =
        key !== '__proto__' &&
        key !== 'constructor' &&
        !(descriptor && !descriptor.set);
      // Payloads keyed by data (ids as keys) must not grow the cache for ever.
      if (copyable.size < MAX_CACHED_KEYS) copyable.set(key, can);
    }
    return can;
  };
  return (payload) => {
    const instance = new (target as unknown as new () => T)() as Record<
      string,
      unknown
    >;
    for (const key of Object.keys(payload)) {
      // A function-valued field the constructor set is not overwritten either.
      if (canCopy(key) && typeof instance[key] !== 'function') {
        instance[key] = payload[key];
      }
    }
    return instance as T;
  };
}
