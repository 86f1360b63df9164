import { isDeepStrictEqual, inspect } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import {
  AggregateRepository,
  CommandBus,
  CurrentUser,
  EventBus,
  EventStore,
  EventUpcaster,
  MessageTypeRegistry,
  QueryBus,
  UnitOfWork,
  type AggregateClass,
  type AggregateRoot,
  type Duration,
  type ManualClock,
} from '@chronicle/core';
import {
  describeError,
  fieldMatches,
  hintFor,
  type ErrorClass,
} from './error-description.js';
import { FixtureExpectationError } from './fixture-expectation.error.js';
import {
  checkDeadlinesCancelled,
  checkDeadlinesSet,
  checkNoProcess,
  checkProcess,
  deadlineChanges,
  processNameOf,
  readInstance,
  type ProcessExpectation,
  type ProcessManagerClass,
} from './process-expectations.js';
import {
  quietMark,
  settleCommandFailures,
  scheduleVersions,
  schedulesSince,
  settleConsumers,
  settleInProcess,
  settleSchedules,
} from './settle.js';
import { isTimeElapses, type TimeElapses } from './time-elapses.js';
import { isStreamEvents, type StreamEvents } from './given-events.js';
import {
  compareMessages,
  describeMessage,
  matches,
  type MessageExpectation,
} from './message-matching.js';

/** What `when` can do: send a command, ask a query, append or publish events, or let time pass. */
export type WhenAction = object | StreamEvents | TimeElapses;

/** Rounds of settling before giving up on a loop of messages that never ends. */
const MAX_SETTLE_ROUNDS = 50;

type Check = (outcome: Outcome) => Promise<string | undefined>;

interface Outcome {
  readonly events: object[];
  readonly commands: object[];
  readonly schedules: object[];
  readonly result: unknown;
  readonly error: unknown;
  readonly failed: boolean;
}

/**
 * One given-when-then run. Built by chaining, run by `await`: the history is
 * written, the action taken, and every expectation checked; all failures are
 * reported together, each with expected and actual side by side.
 */
export class Scenario implements PromiseLike<void> {
  private readonly checks: Check[] = [];
  /** Reads taken once the history settled, before the action: what a check compares against. */
  private readonly beforeAction: (() => Promise<void>)[] = [];
  private expectsError = false;
  private expectsProcesses = false;

  constructor(
    private readonly app: INestApplicationContext,
    private readonly clock: ManualClock,
    private readonly history: readonly (object | StreamEvents)[],
    private readonly action: WhenAction,
    /** Who sends the history's commands and the action (`fixture.as(user)`); undefined: no one. */
    private readonly user?: unknown,
  ) {}

  /** Exactly these events, in this order, were stored and published by the action. */
  expectEvents(...expected: MessageExpectation[]): this {
    this.checks.push(async ({ events }) =>
      compareMessages('events', expected, events),
    );
    return this;
  }

  expectNoEvents(): this {
    return this.expectEvents();
  }

  /** Exactly these commands were sent onward while handling the action. */
  expectCommands(...expected: MessageExpectation[]): this {
    this.checks.push(async ({ commands }) =>
      compareMessages('commands', expected, commands),
    );
    return this;
  }

  expectNoCommands(): this {
    return this.expectCommands();
  }

  /** Exactly these messages were scheduled (new or replaced, still pending) by the action. */
  expectSchedules(...expected: MessageExpectation[]): this {
    this.checks.push(async ({ schedules }) =>
      compareMessages('schedules', expected, schedules),
    );
    return this;
  }

  expectNoSchedules(): this {
    return this.expectSchedules();
  }

  /**
   * Any other check, run once the action and everything it set off (event
   * handlers, consumers, due schedules) is done: query a projection, say.
   * Throw (or fail a Jest `expect`) to fail the scenario.
   */
  expectThat(check: (app: INestApplicationContext) => unknown): this {
    this.checks.push(async () => {
      try {
        await check(this.app);
        return undefined;
      } catch (error) {
        return `expectThat failed: ${error instanceof Error ? error.message : inspect(error)}`;
      }
    });
    return this;
  }

  /** The command's or query's result: deeply equal, or matching a predicate or Jest matcher. */
  expectResult(expected: unknown): this {
    this.checks.push(async ({ result, failed, error }) => {
      if (failed)
        return `Expected a result, but the action failed: ${describeError(error)}`;
      const ok =
        typeof expected === 'object' && expected !== null
          ? matches(expected, result as object)
          : typeof expected === 'function'
            ? (expected as (r: unknown) => boolean)(result)
            : isDeepStrictEqual(result, expected);
      return ok
        ? undefined
        : `Unexpected result:\n  expected ${describeMessage(expected)}\n  actual   ${inspect(result, { depth: 4 })}`;
    });
    return this;
  }

  /**
   * The action failed with this error class, and, if given, a message
   * matching `expected` (a string it contains, or a RegExp) or these fields
   * (`{ bookId: 'b-1' }`, values deeply equal or Jest matchers). A declared
   * error (`@ErrorType`) from another app is rebuilt as its class, so one
   * spec holds embedded and in integration mode.
   */
  expectError(
    type: ErrorClass,
    expected?: string | RegExp | Record<string, unknown>,
  ): this {
    this.expectsError = true;
    this.checks.push(async ({ error, failed, result }) => {
      if (!failed) {
        return `Expected ${type.name}, but the action succeeded with ${inspect(result, { depth: 3 })}`;
      }
      if (!(error instanceof type)) {
        return `Expected ${type.name}, but the action failed with ${describeError(error)}${hintFor(type, error)}`;
      }
      if (expected === undefined) return undefined;
      if (typeof expected === 'string' || expected instanceof RegExp) {
        const text = (error as Error).message;
        const ok =
          typeof expected === 'string'
            ? text.includes(expected)
            : expected.test(text);
        return ok
          ? undefined
          : `Expected ${type.name} with a message matching ${String(expected)}, got "${text}"`;
      }
      const wrong = Object.entries(expected).filter(
        ([key, value]) =>
          !fieldMatches(
            value,
            (error as unknown as Record<string, unknown>)[key],
          ),
      );
      if (wrong.length === 0) return undefined;
      return `Unexpected fields of ${type.name}:\n${wrong
        .map(
          ([key, value]) =>
            `  ${key}: expected ${describeMessage(value)}, actual ${inspect((error as unknown as Record<string, unknown>)[key])}`,
        )
        .join('\n')}`;
    });
    return this;
  }

  /**
   * The aggregate's state after the action: a predicate, or fields it must have
   * (`expectState(Order, 'o-1', { status: 'confirmed' })`).
   */
  expectState<T extends AggregateRoot>(
    aggregate: AggregateClass<T>,
    id: string,
    expected: ((state: T) => boolean) | Partial<Record<keyof T, unknown>>,
  ): this {
    this.checks.push(async () => {
      const repository = this.repository(aggregate);
      const state = await repository.find(id);
      if (!state)
        return `Expected ${repository.aggregateType} "${id}" to exist, but it has no events`;
      if (typeof expected === 'function') {
        return expected(state)
          ? undefined
          : `The state of ${repository.aggregateType} "${id}" did not satisfy the predicate:\n  ${inspect(state, { depth: 3 })}`;
      }
      const wrong = Object.entries(expected).filter(
        ([key, value]) =>
          !isDeepStrictEqual(
            (state as unknown as Record<string, unknown>)[key],
            value,
          ),
      );
      if (wrong.length === 0) return undefined;
      return `Unexpected state of ${repository.aggregateType} "${id}":\n${wrong
        .map(
          ([key, value]) =>
            `  ${key}: expected ${inspect(value)}, actual ${inspect((state as unknown as Record<string, unknown>)[key])}`,
        )
        .join('\n')}`;
    });
    return this;
  }

  /**
   * The process manager's instance for `key` once the action and all it set
   * off are done: its `state` (fields, matched like `toMatchObject`, or a
   * predicate), its `status` (`'live'` or `'ended'`), and exactly which
   * `deadlines` are open, each due how long after the fixture's time.
   */
  expectProcess<S extends object>(
    manager: ProcessManagerClass<S>,
    key: string,
    expected: ProcessExpectation<S>,
  ): this {
    const name = this.processNamed(manager);
    this.checks.push(() =>
      checkProcess(this.app, this.clock, name, key, expected),
    );
    return this;
  }

  /** No instance of the process manager has `key` (none was started for it). */
  expectNoProcess(manager: ProcessManagerClass<object>, key: string): this {
    const name = this.processNamed(manager);
    this.checks.push(() => checkNoProcess(this.app, name, key));
    return this;
  }

  /**
   * Exactly these deadlines were set (or set again) on the instance by the
   * action, by name, each due this long after the fixture's time:
   * `expectDeadlinesSet(OrderFulfilment, 'o-1', { payment: '15m' })`.
   */
  expectDeadlinesSet(
    manager: ProcessManagerClass<object>,
    key: string,
    expected: Readonly<Record<string, Duration>>,
  ): this {
    const name = this.processNamed(manager);
    const changes = this.deadlineChangesOf(name, key);
    this.checks.push(async () =>
      checkDeadlinesSet(name, key, expected, await changes(), this.clock),
    );
    return this;
  }

  /**
   * Exactly these deadlines of the instance were cancelled by the action
   * (`cancelDeadline`, or `end()`), not counting the ones that fired.
   */
  expectDeadlinesCancelled(
    manager: ProcessManagerClass<object>,
    key: string,
    ...names: string[]
  ): this {
    const name = this.processNamed(manager);
    const changes = this.deadlineChangesOf(name, key);
    this.checks.push(async () =>
      checkDeadlinesCancelled(name, key, names, await changes(), this.clock),
    );
    return this;
  }

  private processNamed(manager: object): string {
    this.expectsProcesses = true;
    return processNameOf(manager);
  }

  /** Reads the instance before the action; the returned function compares it with after. */
  private deadlineChangesOf(name: string, key: string) {
    let before: Awaited<ReturnType<typeof readInstance>>;
    this.beforeAction.push(async () => {
      before = await readInstance(this.app, name, key);
    });
    return async () =>
      deadlineChanges(before, await readInstance(this.app, name, key));
  }

  // Awaiting the scenario is what runs it: the chain reads as one sentence.
  // oxlint-disable-next-line unicorn/no-thenable
  then<R1 = void, R2 = never>(
    onFulfilled?: ((value: void) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): PromiseLike<R1 | R2> {
    return this.run().then(onFulfilled, onRejected);
  }

  private async run(): Promise<void> {
    for (const item of this.history) await this.perform(item, 'given');
    // What the history set off (event handlers, consumers) is not the action's doing.
    await this.settle();
    const schedulesBefore = await scheduleVersions(this.app);
    for (const read of this.beforeAction) await read();
    const events: object[] = [];
    const commands: object[] = [];
    const eventsSeen = this.app
      .get(EventBus)
      .subscribe((event: object) => events.push(event));
    const commandsSeen = this.app
      .get(CommandBus)
      .subscribe((command: object) => commands.push(command));
    let result: unknown;
    let error: unknown;
    let failed = false;
    try {
      result = await this.perform(this.action, 'when');
    } catch (e) {
      failed = true;
      error = e;
    }
    await this.settle();
    eventsSeen.unsubscribe();
    commandsSeen.unsubscribe();
    // The action itself is not a command "sent onward"; a command sent with
    // sendAndForget that no handler here took yet still was.
    const onward = [
      ...commands.filter((c) => c !== this.action),
      ...(await schedulesSince(this.app, schedulesBefore, true)),
    ];
    if (failed && !this.expectsError) {
      throw new FixtureExpectationError(
        `The action failed unexpectedly: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
    const schedules = await schedulesSince(this.app, schedulesBefore);
    const outcome: Outcome = {
      events,
      commands: onward,
      schedules,
      result,
      error,
      failed,
    };
    const failures = (
      await Promise.all(this.checks.map((check) => check(outcome)))
    ).filter((f): f is string => f !== undefined);
    if (failures.length > 0) {
      throw new FixtureExpectationError(
        `${failures.join('\n\n')}\n\n  when: ${describeMessage(this.action)}${this.bareEventHint()}`,
      );
    }
  }

  /** Process managers read the log: an event only published in process never reaches them. */
  private bareEventHint(): string {
    if (!this.expectsProcesses || isStreamEvents(this.action)) return '';
    if (MessageTypeRegistry.forInstance(this.action)?.kind !== 'event')
      return '';
    return '\n  (an event given to when() alone is only published in process; process managers read the event log: append it with onStream(id, event) or onAggregate(Aggregate, id, event))';
  }

  /** A repository as the app would use it: its store, unit of work and upcasters. */
  private repository<T extends AggregateRoot>(
    aggregate: AggregateClass<T>,
  ): AggregateRepository<T> {
    return new AggregateRepository(
      aggregate,
      this.app.get(EventStore),
      this.app.get(UnitOfWork),
      {
        upcaster: this.app.get(EventUpcaster),
      },
    );
  }

  /**
   * Waits for in-process handlers, consumers and due schedules, in turn, until
   * all are quiet: a round that appended nothing and changed no schedule.
   * (A consumer, a process manager say, may send a command that appends
   * events another consumer, or itself, then handles.)
   */
  private async settle(): Promise<void> {
    for (let round = 0; ; round++) {
      const before = await quietMark(this.app);
      await settleInProcess();
      await settleSchedules(this.app, this.clock);
      await settleCommandFailures(this.app);
      await settleConsumers(this.app);
      await settleInProcess();
      if ((await quietMark(this.app)) === before) return;
      if (round === MAX_SETTLE_ROUNDS) {
        throw new FixtureExpectationError(
          `Still not quiet after ${MAX_SETTLE_ROUNDS} rounds of delivering schedules and catching up consumers: do handlers keep sending each other messages?`,
        );
      }
    }
  }

  /** `perform`, as the scenario's user when it has one. */
  private perform(item: WhenAction, phase: 'given' | 'when'): Promise<unknown> {
    if (this.user === undefined) return this.performNow(item, phase);
    return this.app
      .get(CurrentUser)
      .runAs(this.user, () => this.performNow(item, phase));
  }

  private async performNow(
    item: WhenAction,
    phase: 'given' | 'when',
  ): Promise<unknown> {
    if (isTimeElapses(item)) {
      this.clock.advanceTimeBy(item.duration);
      await this.settle();
      return undefined;
    }
    if (isStreamEvents(item)) {
      const streamId =
        typeof item.stream === 'string'
          ? item.stream
          : this.repository(item.stream.aggregate).streamId(item.stream.id);
      return this.app.get(UnitOfWork).append(streamId, item.events, 'any');
    }
    const kind = MessageTypeRegistry.forInstance(item)?.kind;
    if (kind === 'query') return this.app.get(QueryBus).execute(item);
    if (kind === 'event') {
      if (phase === 'given') {
        throw new TypeError(
          `${describeMessage(item)} needs a stream: wrap it in onAggregate(Aggregate, id, ...events) or onStream(id, ...events).`,
        );
      }
      return this.app.get(EventBus).publish(item);
    }
    try {
      return await this.app.get(CommandBus).execute(item);
    } catch (error) {
      if (phase === 'when') throw error;
      throw new FixtureExpectationError(
        `given ${describeMessage(item)} failed: ${describeError(error)}`,
        { cause: error },
      );
    }
  }
}
