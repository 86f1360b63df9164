import { ChronicleError } from '../messages/index.js';

/** The store was configured with something it cannot use. */
export class StoreConfigurationError extends ChronicleError {
  readonly code = 'STORE_CONFIGURATION';
}

/** An append was malformed (no stream id, a stream twice, a bad expected version...). */
export class InvalidAppendError extends ChronicleError {
  readonly code = 'INVALID_APPEND';
}

/** A command id was recorded as handled by another writer first. */
export class CommandAlreadyHandledError extends ChronicleError {
  readonly code = 'COMMAND_ALREADY_HANDLED';

  constructor(readonly commandId: string) {
    super(
      `Command ${commandId} has already been handled; its stored result stands.`,
    );
  }
}
