import { ChronicleError } from '../messages/index.js';

/** A `@ProcessManager` class is declared in a way that cannot run. */
export class ProcessManagerDefinitionError extends ChronicleError {
  readonly code = 'PROCESS_MANAGER_DEFINITION';
}

/** An event a process manager handles carries no usable association key. */
export class ProcessKeyMissingError extends ChronicleError {
  readonly code = 'PROCESS_KEY_MISSING';

  constructor(
    readonly process: string,
    readonly eventType: string,
    readonly eventId: string,
    key: string,
  ) {
    super(
      `Process manager "${process}" found no association key in ${eventType} ${eventId} ` +
        `(${key} gave no non-empty text): fix the event or the key option of its @StartedBy/@Handles.`,
    );
  }
}

/** `this.state`, `this.send` or `this.end` was used outside a step of the process manager. */
export class NotInProcessStepError extends ChronicleError {
  readonly code = 'NOT_IN_PROCESS_STEP';

  constructor(className: string, member: string) {
    super(
      `${className}.${member} was used outside a @StartedBy/@Handles method: ` +
        'an instance exists only while one of its events is being handled.',
    );
  }
}

/** A deadline's message is not an event this process manager handles, so it could never be delivered. */
export class ProcessDeadlineError extends ChronicleError {
  readonly code = 'PROCESS_DEADLINE';

  constructor(
    readonly process: string,
    readonly deadline: string,
    messageClass: string,
  ) {
    super(
      `Process manager "${process}" set the deadline "${deadline}" with a ${messageClass}, ` +
        'which it does not handle: pass an @EventType event that one of its @Handles methods takes.',
    );
  }
}
