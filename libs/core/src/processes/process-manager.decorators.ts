import { MessageTypeRegistry, type MessageClass } from '../messages/index.js';
import {
  Consumer,
  HandleEvent,
  type ConsumerContext,
  type ConsumerOptions,
} from '../tracking/index.js';
import {
  HandleSchedule,
  ScheduleType,
  type Duration,
  type ScheduleContext,
} from '../scheduling/index.js';
import type { StoredEvent } from '../store/index.js';
import { ProcessManagerDefinitionError } from './processes.errors.js';
import { runnerOf } from './process-runner-link.js';

// Decorators store metadata; ProcessRunner reads it once at bootstrap. The
// class decorator also declares the process manager's consumer (one
// @HandleEvent method for all its events), so the tracking machinery
// (positions, leases, retries, policies, health, reset) runs it unchanged.

const PROCESS = Symbol('chronicle:process-manager');
const STEPS = Symbol('chronicle:process-steps');
const FAILURES = Symbol('chronicle:process-command-failures');

/** The method the process manager's consumer calls for each of its events. */
export const RUN_STEP = Symbol('process step');

/**
 * The method the scheduler delivers the process manager's deadlines to: a
 * string name, since the scheduler finds its handlers among named methods.
 */
export const RUN_DEADLINE = 'chronicleProcessDeadline';

/**
 * A deadline as stored in its schedule: the instance, the deadline's name,
 * the token of the step that set it (a delivery whose token is no longer the
 * instance's does nothing), and the message to hand back.
 */
export class ProcessDeadline {
  key = '';
  deadline = '';
  token = '';
  type = '';
  message: Record<string, unknown> = {};
}

/**
 * A command an instance sent that died, as stored in the schedule that hands
 * it back: the instance, and the error message of its last try.
 */
export class ProcessCommandFailed {
  key = '';
  failed: Record<string, unknown> = {};
}

/** The schedule type that hands a process manager its dead commands. */
export function failureScheduleType(name: string): string {
  return `chronicle.process.${name}.commandFailed`;
}

/** The schedule type of a process manager's deadlines: only apps running it claim them. */
export function deadlineScheduleType(name: string): string {
  return `chronicle.process.${name}.deadline`;
}

/** Whether a schedule type is a process manager's deadlines (Chronicle's, not the app's own schedule). */
export function isDeadlineScheduleType(type: string): boolean {
  return /^chronicle\.process\..+\.deadline$/.test(type);
}

/** Whether a schedule type is a process manager's own (its deadlines, its dead commands handed back). */
export function isProcessScheduleType(type: string): boolean {
  return /^chronicle\.process\..+\.(deadline|commandFailed)$/.test(type);
}

/** How an event names the instance it belongs to: a field of it, or a function of it. */
export type AssociationKey<E> =
  Extract<keyof E, string> | ((event: E) => string | undefined);

export interface AssociationOptions<E> {
  readonly key: AssociationKey<E>;
}

/**
 * The consumer options a process manager takes. Its `segments` (default 1)
 * split the log by association key: an instance's events are handled in log
 * order, one at a time, by the app instance holding its key's segment, and
 * several segments spread the instances over app instances. A new count
 * takes effect when no instance runs the old one (see the guide). It starts
 * at the end of the log unless `startFrom: 'beginning'`. Its state lives in
 * Chronicle's own tables, so it declares no projection tables (and so no
 * blue-green versions).
 */
export type ProcessManagerOptions = Omit<
  ConsumerOptions,
  'tables' | 'schema' | 'version' | 'sequenceBy' | 'onSegmentsChanged'
> & {
  /**
   * How long the step history of an ended instance is kept (`'30d'`, ms), or
   * `false` to keep it for ever. Default 30 days. The instance's row stays.
   */
  readonly historyRetention?: Duration | false;
};

export interface ProcessManagerMetadata {
  readonly name: string;
  readonly options: ProcessManagerOptions;
}

export interface StepMetadata {
  readonly method: string | symbol;
  readonly event: MessageClass;
  readonly key: AssociationKey<object>;
  /** Whether this event starts an instance when its key has none. */
  readonly starts: boolean;
}

export interface FailureMetadata {
  readonly method: string | symbol;
  readonly commands: readonly MessageClass[];
}

/** The method error messages of the process manager's commands reach (a named method, like RUN_DEADLINE). */
export const RUN_FAILURE = 'chronicleProcessCommandFailed';

/** The consumer name a process manager's positions are kept under. */
export function processConsumerName(name: string): string {
  return `process:${name}`;
}

/**
 * Makes a provider (a `ProcessManagerBase<S>` subclass) a process manager:
 * instances found by association key, each with its own state, driven by
 * the events its `@StartedBy` and `@Handles` methods name. `name` keys the
 * stored instances and the consumer `process:<name>`: keep it stable.
 */
export function ProcessManager(
  name: string,
  options: ProcessManagerOptions = {},
): ClassDecorator {
  return (target) => {
    if (typeof name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(name)) {
      throw new ProcessManagerDefinitionError(
        `@ProcessManager on ${target.name} has the name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-'.`,
      );
    }
    Reflect.defineMetadata(PROCESS, { name, options }, target);
    const steps = stepsOf(target);
    const events = [...new Set(steps.map((s) => s.event))];
    if (events.length === 0) {
      throw new ProcessManagerDefinitionError(
        `Process manager "${name}" (${target.name}) handles no events: decorate a method with @StartedBy(SomeEvent, { key: 'someId' }).`,
      );
    }
    for (const event of events) {
      const forEvent = steps.filter((s) => s.event === event);
      if (forEvent.length > 1) {
        throw new ProcessManagerDefinitionError(
          `Process manager "${name}" (${target.name}) handles ${event.name} in ${forEvent
            .map((s) => String(s.method))
            .join(' and ')}: give each event one method.`,
        );
      }
    }
    if (!steps.some((s) => s.starts)) {
      throw new ProcessManagerDefinitionError(
        `Process manager "${name}" (${target.name}) has no @StartedBy method, so no instance could ever start.`,
      );
    }
    const prototype = target.prototype as object;
    Object.defineProperty(prototype, RUN_STEP, {
      configurable: true,
      value(
        this: object,
        event: object,
        envelope: StoredEvent<object>,
        context: ConsumerContext,
      ): Promise<void> {
        return runnerOf(this).step(this, event, envelope, context);
      },
    });
    HandleEvent(...events)(
      prototype,
      RUN_STEP,
      Object.getOwnPropertyDescriptor(prototype, RUN_STEP)!,
    );
    const Deadline = class extends ProcessDeadline {};
    ScheduleType(deadlineScheduleType(name))(Deadline);
    Object.defineProperty(prototype, RUN_DEADLINE, {
      configurable: true,
      value(
        this: object,
        deadline: ProcessDeadline,
        schedule: ScheduleContext,
      ): Promise<void> {
        return runnerOf(this).deadline(this, deadline, schedule);
      },
    });
    HandleSchedule(Deadline)(
      prototype,
      RUN_DEADLINE,
      Object.getOwnPropertyDescriptor(prototype, RUN_DEADLINE)!,
    );
    const commands = failuresOf(target).flatMap((f) => f.commands);
    if (commands.length > 0) {
      // Durable: written with the dead command's row (see ProcessRunner), delivered by the scheduler.
      const Failure = class extends ProcessCommandFailed {};
      ScheduleType(failureScheduleType(name))(Failure);
      Object.defineProperty(prototype, RUN_FAILURE, {
        configurable: true,
        value(
          this: object,
          failure: ProcessCommandFailed,
          schedule: ScheduleContext,
        ): Promise<void> {
          return runnerOf(this).commandFailed(this, failure, schedule);
        },
      });
      HandleSchedule(Failure)(
        prototype,
        RUN_FAILURE,
        Object.getOwnPropertyDescriptor(prototype, RUN_FAILURE)!,
      );
    }
    const { historyRetention: _kept, ...consumerOptions } = options;
    Consumer(processConsumerName(name), {
      startFrom: 'now',
      ...consumerOptions,
      // An instance's events stay together, in log order, whatever their
      // streams: segments split by association key.
      sequenceBy: (event) =>
        associationKeyOf(
          steps.find((s) => s.event === event.constructor)?.key,
          event,
        ),
      // A step passes over an event its instance handled: a new split may
      // replay from the oldest segment's checkpoint.
      onSegmentsChanged: 'replay-from-oldest',
    })(target);
  };
}

/**
 * Starts an instance: an `event` whose key has no instance yet starts one
 * (with `initialState()`), then this method runs. For a key whose instance
 * is live, it continues that instance like `@Handles`.
 */
export function StartedBy<E extends object>(
  event: MessageClass<E>,
  options: AssociationOptions<E>,
): MethodDecorator {
  return step(event, options, true);
}

/**
 * Continues an instance: runs for an `event` whose key has a live instance.
 * An event whose key has none (never started, or ended) is passed over.
 */
export function Handles<E extends object>(
  event: MessageClass<E>,
  options: AssociationOptions<E>,
): MethodDecorator {
  return step(event, options, false);
}

/**
 * Runs when a command this process manager sent (`this.send`) has failed
 * for good: the outbox tried it `scheduling.maxAttempts` times, and its
 * schedule is dead. The method gets the error message (`HandlingFailed`)
 * and runs as a step of the instance that sent it, with its state.
 */
export function OnCommandFailed(
  ...commands: readonly MessageClass[]
): MethodDecorator {
  return (target, method) => {
    const owner = target.constructor;
    const existing: FailureMetadata[] =
      Reflect.getMetadata(FAILURES, owner) ?? [];
    Reflect.defineMetadata(
      FAILURES,
      [...existing, { method, commands }],
      owner,
    );
  };
}

function step<E extends object>(
  event: MessageClass<E>,
  options: AssociationOptions<E>,
  starts: boolean,
): MethodDecorator {
  return (target, method) => {
    const owner = target.constructor;
    const existing: StepMetadata[] = Reflect.getMetadata(STEPS, owner) ?? [];
    const added: StepMetadata = {
      method,
      event,
      key: options?.key as AssociationKey<object>,
      starts,
    };
    Reflect.defineMetadata(STEPS, [...existing, added], owner);
  };
}

export function processManagerMetadataOf(
  target: object,
): ProcessManagerMetadata | undefined {
  return Reflect.getMetadata(PROCESS, target);
}

/** The name a class was declared with (`@ProcessManager(name)`); undefined for any other class. */
export function processManagerName(target: object): string | undefined {
  return processManagerMetadataOf(target)?.name;
}

/** The type names of the commands whose failures a process manager's `@OnCommandFailed` methods handle. */
export function onCommandFailedTypes(target: object): string[] {
  return failuresOf(target).flatMap(({ commands }) =>
    commands.flatMap((command) => {
      const name = MessageTypeRegistry.forClass(command)?.name;
      return name === undefined ? [] : [name];
    }),
  );
}

/** The instance key an event names (a field or a function of it); undefined when it names none. */
export function associationKeyOf(
  key: AssociationKey<object> | undefined,
  event: object,
): string | undefined {
  if (key === undefined) return undefined;
  const value: unknown =
    typeof key === 'function'
      ? key(event)
      : (event as Record<string, unknown>)[key];
  if (typeof value === 'number' || typeof value === 'bigint')
    return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function stepsOf(target: object): readonly StepMetadata[] {
  return Reflect.getMetadata(STEPS, target) ?? [];
}

export function failuresOf(target: object): readonly FailureMetadata[] {
  return Reflect.getMetadata(FAILURES, target) ?? [];
}
