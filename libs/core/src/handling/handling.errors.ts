import { ChronicleError } from '../messages/index.js';

/** A command id was sent again with a different command type. */
export class CommandIdReusedError extends ChronicleError {
  readonly code = 'COMMAND_ID_REUSED';

  constructor(
    readonly commandId: string,
    readonly storedType: string,
    readonly sentType: string,
  ) {
    super(
      `Command id ${commandId} was already used by a ${storedType}; it cannot be reused for a ${sentType}. ` +
        'Give every distinct command its own id.',
    );
  }
}
