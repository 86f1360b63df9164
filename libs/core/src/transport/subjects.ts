import type { MessageKind } from '../messages/index.js';
import { TransportError } from './transport.errors.js';

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Checks a name that becomes one token of a NATS subject or a queue group. */
export function checkSubjectToken(what: string, value: string): string {
  if (!TOKEN.test(value)) {
    throw new TransportError(
      `The ${what} "${value}" cannot be used in NATS subjects: use letters, digits, "_" and "-".`,
    );
  }
  return value;
}

/** `chronicle.<namespace>.command.<Type>` (a type name's dots add tokens, which is fine). */
export function messageSubject(
  namespace: string,
  kind: MessageKind,
  type: string,
): string {
  return `chronicle.${namespace}.${kind}.${type}`;
}

/** Where the store's wake-ups travel: `chronicle.<namespace>.events`. */
export function eventsSubject(namespace: string): string {
  return `chronicle.${namespace}.events`;
}

/**
 * Where the apps serving a message type say so: `chronicle.<namespace>.serving.<kind>.<Type>`,
 * so that two different apps serving one type notice each other.
 */
export function presenceSubject(
  namespace: string,
  kind: MessageKind,
  type: string,
): string {
  return `chronicle.${namespace}.serving.${kind}.${type}`;
}

/**
 * Where the failures of handling messages of `type` are published:
 * `chronicle.<namespace>.error.<Type>`; without a type, the wildcard of them all.
 */
export function errorSubject(namespace: string, type?: string): string {
  return `chronicle.${namespace}.error.${type ?? '>'}`;
}

/** Whether `subject` matches `pattern` as NATS matches them (`*` one token, `>` the rest). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const got = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return got.length > i;
    if (i >= got.length) return false;
    if (want[i] !== '*' && want[i] !== got[i]) return false;
  }
  return want.length === got.length;
}
