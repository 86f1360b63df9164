import type { ScheduleContext } from '../scheduling/index.js';
import type { ConsumerContext } from '../tracking/index.js';
import type { StoredEvent } from '../store/index.js';
import type {
  ProcessCommandFailed,
  ProcessDeadline,
} from './process-manager.decorators.js';
import { ProcessManagerDefinitionError } from './processes.errors.js';

/** What a process manager's consumer method hands its events to. */
export interface StepRunner {
  step(
    manager: object,
    event: object,
    envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void>;
  deadline(
    manager: object,
    deadline: ProcessDeadline,
    schedule: ScheduleContext,
  ): Promise<void>;
  commandFailed(
    manager: object,
    failure: ProcessCommandFailed,
    schedule: ScheduleContext,
  ): Promise<void>;
}

// Each process manager provider is linked at bootstrap to the ProcessRunner of
// its app (a process may hold several apps, each with its own instance).
const runners = new WeakMap<object, StepRunner>();

export function linkRunner(manager: object, runner: StepRunner): void {
  runners.set(manager, runner);
}

export function runnerOf(manager: object): StepRunner {
  const runner = runners.get(manager);
  if (!runner) {
    throw new ProcessManagerDefinitionError(
      `${manager.constructor.name} is a @ProcessManager that no ChronicleModule found: provide it in a module of the app that imports ChronicleModule.`,
    );
  }
  return runner;
}
