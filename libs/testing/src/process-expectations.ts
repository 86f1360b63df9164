import { inspect, isDeepStrictEqual } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import { isAsymmetric, type AsymmetricMatcher } from './message-matching.js';
import {
  durationMs,
  EventStore,
  listProcesses,
  processManagerName,
  readProcess,
  type Clock,
  type Duration,
  type PostgresEventStore,
  type ProcessDeadlineDetail,
  type ProcessInstanceDetail,
  type ProcessManagerBase,
  type ProcessStatus,
} from '@chronicle/core';

/** A `@ProcessManager` class; its state type `S` comes from `ProcessManagerBase<S>`. */
export type ProcessManagerClass<S extends object> = abstract new (
  ...args: never[]
) => ProcessManagerBase<S>;

/**
 * What the state of an instance must be: fields it has (matched like Jest's
 * `toMatchObject`: nested objects in part, arrays whole, Jest matchers
 * allowed), or a predicate.
 */
export type StateExpectation<S> =
  ((state: S) => boolean) | { readonly [K in keyof S]?: unknown };

/** What an instance must look like once the action and all it set off are done. */
export interface ProcessExpectation<S extends object> {
  readonly state?: StateExpectation<S>;
  /** `'live'` (not ended) or `'ended'`. */
  readonly status?: ProcessStatus;
  /**
   * Exactly these deadlines are open, by name, each due this long after the
   * fixture's time (`{ payment: '15m' }`); `{}`: none is.
   */
  readonly deadlines?: Readonly<Record<string, Duration>>;
}

/** How an instance's deadlines changed during the action. */
export interface DeadlineChanges {
  /** Set or set again (replaced), and open after the action. */
  readonly set: readonly ProcessDeadlineDetail[];
  /** Open before, removed without firing: `cancelDeadline`, or `end()`. */
  readonly cancelled: readonly string[];
  /** Open before, delivered back to the instance. */
  readonly fired: readonly string[];
}

/** The process manager's name, or a TypeError saying what to pass instead. */
export function processNameOf(manager: object): string {
  const name = processManagerName(manager);
  if (name === undefined) {
    throw new TypeError(
      `${(manager as { name?: string }).name ?? 'This class'} is not a process manager: pass a class decorated with @ProcessManager(name).`,
    );
  }
  return name;
}

export function readInstance(
  app: INestApplicationContext,
  name: string,
  key: string,
): Promise<ProcessInstanceDetail | undefined> {
  const store = app.get(EventStore) as PostgresEventStore;
  return readProcess(store.client, store.schema, name, key);
}

const label = (name: string, key: string) => `process ${name} "${key}"`;

/** The instance for `key` matches `expected`; undefined if it does, else why not. */
export async function checkProcess<S extends object>(
  app: INestApplicationContext,
  clock: Clock,
  name: string,
  key: string,
  expected: ProcessExpectation<S>,
): Promise<string | undefined> {
  const instance = await readInstance(app, name, key);
  if (!instance) {
    return `Expected ${label(name, key)} to exist, but no instance has this key${await otherKeys(app, name)}`;
  }
  const failures: string[] = [];
  if (expected.status !== undefined && instance.status !== expected.status) {
    failures.push(
      `Expected ${label(name, key)} to be ${expected.status}, but it is ${instance.status}`,
    );
  }
  if (expected.state !== undefined) {
    const wrong = stateMismatches(expected.state as never, instance.state);
    if (wrong.length > 0) {
      failures.push(
        `Unexpected state of ${label(name, key)}:\n${wrong.map((w) => `  ${w}`).join('\n')}\n  state: ${inspect(instance.state, { depth: 6, breakLength: Infinity })}`,
      );
    }
  }
  if (expected.deadlines !== undefined) {
    const failure = compareDeadlines(
      `open deadlines of ${label(name, key)}`,
      expected.deadlines,
      instance.deadlines,
      clock,
    );
    if (failure) failures.push(failure);
  }
  return failures.length > 0 ? failures.join('\n\n') : undefined;
}

/** No instance has `key`; undefined if so, else what there is. */
export async function checkNoProcess(
  app: INestApplicationContext,
  name: string,
  key: string,
): Promise<string | undefined> {
  const instance = await readInstance(app, name, key);
  if (!instance) return undefined;
  return `Expected no instance of process ${name} for "${key}", but there is one (${instance.status}): ${inspect(instance.state, { depth: 6, breakLength: Infinity })}`;
}

/** What happened to the deadlines of an instance between two reads of it. */
export function deadlineChanges(
  before: ProcessInstanceDetail | undefined,
  after: ProcessInstanceDetail | undefined,
): DeadlineChanges {
  const earlier = before?.deadlines ?? [];
  const later = after?.deadlines ?? [];
  const handled = new Set(after?.history.map((s) => s.messageId) ?? []);
  const gone = earlier.filter((b) => !later.some((a) => a.name === b.name));
  // A deadline delivered back is a step of its own, under its delivery id.
  const fired = (d: ProcessDeadlineDetail) =>
    d.deliveryId !== null && handled.has(d.deliveryId);
  return {
    set: later.filter(
      (a) => earlier.find((b) => b.name === a.name)?.setBy !== a.setBy,
    ),
    cancelled: gone.filter((d) => !fired(d)).map((d) => d.name),
    fired: gone.filter(fired).map((d) => d.name),
  };
}

export function checkDeadlinesSet(
  name: string,
  key: string,
  expected: Readonly<Record<string, Duration>>,
  changes: DeadlineChanges,
  clock: Clock,
): string | undefined {
  const failure = compareDeadlines(
    `deadlines set on ${label(name, key)}`,
    expected,
    changes.set,
    clock,
  );
  return failure && `${failure}\n${describeChanges(changes, clock)}`;
}

export function checkDeadlinesCancelled(
  name: string,
  key: string,
  expected: readonly string[],
  changes: DeadlineChanges,
  clock: Clock,
): string | undefined {
  const sorted = (names: readonly string[]) => [...names].sort();
  if (isDeepStrictEqual(sorted(expected), sorted(changes.cancelled)))
    return undefined;
  return `Unexpected deadlines cancelled on ${label(name, key)}:\n  expected ${listNames(expected)}\n  actual   ${listNames(changes.cancelled)}\n${describeChanges(changes, clock)}`;
}

function describeChanges(changes: DeadlineChanges, clock: Clock): string {
  const set = changes.set.map((d) => describeDeadline(d, clock));
  return `  (during the action: set ${set.length > 0 ? set.join(', ') : '(none)'}; cancelled ${listNames(changes.cancelled)}; fired ${listNames(changes.fired)})`;
}

function listNames(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : '(none)';
}

/** Exactly the expected names, each due the expected time after the clock's. */
function compareDeadlines(
  what: string,
  expected: Readonly<Record<string, Duration>>,
  actual: readonly ProcessDeadlineDetail[],
  clock: Clock,
): string | undefined {
  const now = clock.now().getTime();
  const wanted = Object.entries(expected).map(([name, after]) => ({
    name,
    inMs: durationMs(after, `deadline "${name}"`),
  }));
  const ok =
    wanted.length === actual.length &&
    wanted.every((w) =>
      actual.some(
        (a) => a.name === w.name && a.dueAt.getTime() - now === w.inMs,
      ),
    );
  if (ok) return undefined;
  const expectedText = wanted.map((w) => `${w.name} in ${formatMs(w.inMs)}`);
  const actualText = actual.map((d) => describeDeadline(d, clock));
  return `Unexpected ${what}:\n  expected ${expectedText.join(', ') || '(none)'}\n  actual   ${actualText.join(', ') || '(none)'}`;
}

function describeDeadline(
  deadline: ProcessDeadlineDetail,
  clock: Clock,
): string {
  const inMs = deadline.dueAt.getTime() - clock.now().getTime();
  const when =
    inMs < 0 ? `overdue by ${formatMs(-inMs)}` : `in ${formatMs(inMs)}`;
  return `${deadline.name} ${when} (due ${deadline.dueAt.toISOString()})`;
}

/** Milliseconds in the largest unit that divides them: 900000 is 15m. */
function formatMs(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [unit, size] of units)
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

async function otherKeys(
  app: INestApplicationContext,
  name: string,
): Promise<string> {
  const store = app.get(EventStore) as PostgresEventStore;
  const instances = await listProcesses(store.client, store.schema, {
    name,
    limit: 10,
  });
  return instances.length === 0
    ? ' (it has no instances at all)'
    : ` (its instances: ${instances.map((i) => `"${i.key}"`).join(', ')})`;
}

function describeMatcher(matcher: AsymmetricMatcher): string {
  return matcher.toAsymmetricMatcher?.() ?? matcher.toString();
}

/** Each place where `actual` differs from the partial `expected`, with its path. */
function stateMismatches(
  expected: StateExpectation<object>,
  actual: unknown,
): string[] {
  if (typeof expected === 'function') {
    return (expected as (state: unknown) => boolean)(actual)
      ? []
      : ['the predicate did not hold'];
  }
  const out: string[] = [];
  collectMismatches(expected, actual, '', out);
  return out;
}

function collectMismatches(
  expected: unknown,
  actual: unknown,
  path: string,
  out: string[],
): void {
  const at = path === '' ? 'state' : path;
  const differ = (shown: string) =>
    out.push(`${at}: expected ${shown}, actual ${show(actual)}`);
  if (isAsymmetric(expected)) {
    if (!expected.asymmetricMatch(actual)) differ(describeMatcher(expected));
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      differ(show(expected));
      return;
    }
    expected.forEach((item, i) =>
      collectMismatches(item, actual[i], `${path}[${i}]`, out),
    );
    return;
  }
  if (typeof expected === 'object' && expected !== null) {
    if (
      typeof actual !== 'object' ||
      actual === null ||
      Array.isArray(actual)
    ) {
      differ(show(expected));
      return;
    }
    for (const [field, value] of Object.entries(expected)) {
      collectMismatches(
        value,
        (actual as Record<string, unknown>)[field],
        path === '' ? field : `${path}.${field}`,
        out,
      );
    }
    return;
  }
  if (!isDeepStrictEqual(actual, expected)) differ(show(expected));
}

/** A value on one line, with Jest matchers inside it shown as Jest shows them (`Any<String>`). */
function show(value: unknown): string {
  return inspect(readable(value), { depth: 4, breakLength: Infinity });
}

function readable(value: unknown): unknown {
  if (isAsymmetric(value)) {
    const text = describeMatcher(value);
    return { [inspect.custom]: () => text };
  }
  if (Array.isArray(value)) return value.map(readable);
  if (
    typeof value === 'object' &&
    value !== null &&
    value.constructor === Object
  ) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, readable(v)]),
    );
  }
  return value;
}
