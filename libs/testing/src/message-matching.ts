import { inspect, isDeepStrictEqual } from 'node:util';
import { MessageTypeRegistry, ScheduleTypeRegistry } from '@chronicle/core';

/**
 * What an expectation may say about one message:
 * - an instance: same class, deeply equal;
 * - a message class: any message of that class;
 * - a predicate: `(event) => event.total > 10`;
 * - a Jest asymmetric matcher: `expect.objectContaining({ orderId: 'o-1' })`.
 */
export type MessageExpectation = object | ((message: never) => boolean);

/** A Jest asymmetric matcher (`expect.any(String)`, `expect.objectContaining(...)`). */
export interface AsymmetricMatcher {
  asymmetricMatch(other: unknown): boolean;
  /** Jest's own account of the matcher (`Any<String>`); `toString()` says only `Any`. */
  toAsymmetricMatcher?(): string;
  toString(): string;
}

export function isAsymmetric(value: unknown): value is AsymmetricMatcher {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { asymmetricMatch?: unknown }).asymmetricMatch ===
      'function'
  );
}

function isMessageClass(
  value: unknown,
): value is abstract new (...args: never[]) => object {
  return (
    typeof value === 'function' &&
    (MessageTypeRegistry.forClass(value as never) !== undefined ||
      ScheduleTypeRegistry.forClass(value as never) !== undefined)
  );
}

export function matches(expected: MessageExpectation, actual: object): boolean {
  if (isAsymmetric(expected)) return expected.asymmetricMatch(actual);
  if (isMessageClass(expected)) return actual instanceof expected;
  if (typeof expected === 'function')
    return (expected as (m: object) => boolean)(actual);
  return isDeepStrictEqual(actual, expected);
}

function typeName(target: unknown): string {
  return (
    MessageTypeRegistry.forClass(target as never)?.name ??
    ScheduleTypeRegistry.forClass(target as never)?.name ??
    (target as { name?: string }).name ??
    'message'
  );
}

/** One message as a line of a report: its type name and its fields. */
export function describeMessage(message: unknown): string {
  if (isAsymmetric(message)) return message.toString();
  if (isMessageClass(message)) return `any ${typeName(message)}`;
  if (typeof message === 'function')
    return `a message for which ${message.name || 'the predicate'} holds`;
  if (typeof message !== 'object' || message === null) return inspect(message);
  if (message.constructor === Object)
    return inspect(message, { depth: 4, breakLength: Infinity });
  const name = typeName(message.constructor);
  return `${name} ${inspect({ ...message }, { depth: 4, breakLength: Infinity })}`;
}

/** A readable account of expected against actual messages, naming the first mismatch. */
export function compareMessages(
  what: string,
  expected: readonly MessageExpectation[],
  actual: readonly object[],
): string | undefined {
  const mismatch =
    expected.length !== actual.length
      ? -1
      : expected.findIndex((e, i) => !matches(e, actual[i]));
  if (mismatch === -1 && expected.length === actual.length) return undefined;
  const list = (items: readonly unknown[]) =>
    items.length === 0
      ? '    (none)'
      : items.map((m, i) => `    ${i + 1}. ${describeMessage(m)}`).join('\n');
  const why =
    expected.length !== actual.length
      ? `expected ${expected.length} ${what}, got ${actual.length}`
      : `${what} #${mismatch + 1} differs:\n      expected ${describeMessage(
          expected[mismatch],
        )}\n      actual   ${describeMessage(actual[mismatch])}`;
  return `Unexpected ${what}: ${why}\n  Expected ${what}:\n${list(expected)}\n  Actual ${what}:\n${list(actual)}`;
}
