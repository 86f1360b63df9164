import { AsyncLocalStorage } from 'node:async_hooks';
import { NotInProcessStepError } from './processes.errors.js';

/** The instance one step runs on: read and changed by the handler, saved after it. */
export interface ProcessStep<S> {
  readonly process: string;
  readonly key: string;
  state: S;
  ended: boolean;
  /** Commands to store with the step, in the order sent. */
  readonly commands: object[];
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

  /** Ends the instance when this step commits: later events for its key are passed over. */
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
