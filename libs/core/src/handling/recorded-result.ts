import { ResultNotJsonError } from './handling.errors.js';

/**
 * A command's result as its record keeps it and as every caller reads it:
 * what JSON makes of it (a Date becomes its ISO string, a class instance a
 * plain object). The first call returns it so too, so the first answer, a
 * repeat answered from the record, and an answer over NATS have one shape.
 */
export function asRecorded(result: unknown, type: string): unknown {
  if (result === undefined) return undefined;
  // Most results are plain data already (an id, `{ orderId }`): copied as
  // JSON would copy them, without printing and parsing a string.
  try {
    const copy = plainJsonCopy(result, 0);
    if (copy !== NOT_PLAIN) return copy;
  } catch {
    // A getter threw: JSON.stringify below says so with the type.
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch (error) {
    throw new ResultNotJsonError(type, error);
  }
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

/** What `plainJsonCopy` returns for a value JSON would change (or may refuse). */
export const NOT_PLAIN = Symbol('not plain JSON');
const MAX_PLAIN_DEPTH = 16;

/**
 * A copy of `value` equal to `JSON.parse(JSON.stringify(value))`, when value
 * holds only strings, finite numbers, booleans, null, dense arrays and plain
 * objects (whose undefined fields JSON drops); `NOT_PLAIN` for anything else
 * (class instances, Dates, NaN, -0, holes, functions, cycles...), which then
 * take the JSON round trip itself.
 */
export function plainJsonCopy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0)
        ? value
        : NOT_PLAIN;
    case 'object':
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return null;
  if (depth >= MAX_PLAIN_DEPTH) return NOT_PLAIN;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype === Array.prototype) {
    const array = value as unknown[];
    const copy: unknown[] = [];
    for (let i = 0; i < array.length; i++) {
      if (!(i in array) || array[i] === undefined) return NOT_PLAIN;
      const item = plainJsonCopy(array[i], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      copy.push(item);
    }
    return copy;
  }
  if (prototype !== Object.prototype && prototype !== null) return NOT_PLAIN;
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    if (key === '__proto__' || key === 'toJSON') return NOT_PLAIN;
    const field = record[key];
    if (field === undefined) continue;
    const item = plainJsonCopy(field, depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = item;
  }
  return copy;
}
