import { AsyncLocalStorage } from 'node:async_hooks';
import { durationMs, type Duration } from '../scheduling/index.js';
import { NotInProcessStepError } from './processes.errors.js';

/** The instance one step runs on: read and changed by the handler, saved after it. */
export interface ProcessStep<S> {
  readonly process: string;
  readonly key: string;
  state: S;
  ended: boolean;
  /** Commands to store with the step, in the order sent. */
  readonly commands: object[];
  /** Deadlines set (a delay and the message) or cancelled (null) by the step, by name. */
  readonly deadlines: Map<string, DeadlineRequest | null>;
}

export interface DeadlineRequest {
  readonly afterMs: number;
  readonly message: object;
}

// The running step is carried across the handler's awaits, so one provider
// instance serves every process instance without sharing state between them.
const running = new AsyncLocalStorage<ProcessStep<unknown>>();

export function runStep<S, R>(step: ProcessStep<S>, fn: () => R): R {
  return running.run(step as ProcessStep<unknown>, fn);
}

/**
 * The base class of a `@ProcessManager`: `S` is the state of one instance.
 * In a `@StartedBy` or `@Handles` method, `this.state` is the instance's
 * state (assign it, or change it in place), `this.send(command)` sends a
 * command when the step commits, and `this.end()` ends the instance.
 */
export abstract class ProcessManagerBase<S extends object> {
  /** The state a new instance starts with, before its `@StartedBy` method runs. */
  abstract initialState(): S;

  /** The state of the instance whose event is being handled. */
  protected get state(): S {
    return this.step('state').state as S;
  }

  protected set state(value: S) {
    this.step('state').state = value;
  }

  /** The association key of the instance whose event is being handled. */
  protected get key(): string {
    return this.step('key').key;
  }

  /**
   * Sends `command` once this step commits, through the durable outbox, with
   * an id derived from the event, the process, the key and the method, so a
   * re-run of the step sends the same id.
   */
  protected send(command: object): void {
    this.step('send').commands.push(command);
  }

  /**
   * Delivers `message` (an event class this process manager `@Handles`) back
   * to this instance `after` a delay (ms, or text such as `'15m'`), unless
   * cancelled or the instance ends first. Setting a deadline of the same
   * name again replaces it. Written when the step commits, once.
   */
  protected deadline(name: string, after: Duration, message: object): void {
    const step = this.step('deadline');
    step.deadlines.set(name, {
      afterMs: durationMs(after, `deadline "${name}"`),
      message,
    });
  }

  /** Cancels the deadline `name` of this instance, if it is open, when the step commits. */
  protected cancelDeadline(name: string): void {
    this.step('cancelDeadline').deadlines.set(name, null);
  }

  /**
   * Ends the instance when this step commits: its open deadlines are
   * cancelled, and later events and deadlines for its key are passed over.
   */
  protected end(): void {
    this.step('end').ended = true;
  }

  /** Whether `end()` was called in this step. */
  protected get ended(): boolean {
    return this.step('ended').ended;
  }

  private step(member: string): ProcessStep<unknown> {
    const step = running.getStore();
    if (!step) throw new NotInProcessStepError(this.constructor.name, member);
    return step;
  }
}
