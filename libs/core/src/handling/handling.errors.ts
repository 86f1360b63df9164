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

/** `sendAndForget` was given something that is not a command with a stable type name. */
export class NotACommandError extends ChronicleError {
  readonly code = 'NOT_A_COMMAND';

  constructor(
    readonly className: string,
    kind?: string,
  ) {
    super(
      kind
        ? `${className} is a ${kind}: only commands can be sent without waiting.`
        : `${className} has no stable type name: sendAndForget stores the command to deliver it, ` +
            `so decorate it with @CommandType('context.${className}').`,
    );
  }
}

/** A command handler returned what JSON cannot write (a BigInt, a cycle); nothing it did was kept. */
export class ResultNotJsonError extends ChronicleError {
  readonly code = 'RESULT_NOT_JSON';

  constructor(
    readonly commandType: string,
    cause: unknown,
  ) {
    super(
      `The result of ${commandType} cannot be written as JSON (${cause instanceof Error ? cause.message : String(cause)}), ` +
        "so it cannot be kept with the command's record nor sent to a caller; nothing the handler did was kept. " +
        'Return plain data (a BigInt as a string, no cycles).',
      { cause },
    );
  }
}
