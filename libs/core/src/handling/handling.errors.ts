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
/**
 * `enabled` (or `CHRONICLE_ENABLED`) names a module that enables nothing: a
 * typo, or a module of another build. Left alone, this process would serve
 * nothing and callers would hear "No handler ... is online".
 */
export class UnknownEnabledModuleError extends ChronicleError {
  readonly code = 'UNKNOWN_ENABLED_MODULE';

  constructor(
    /** The names that match no module holding work. */
    readonly unknown: readonly string[],
    /** The modules that do (class names). */
    readonly modules: readonly string[],
    /** Where the names came from. */
    readonly source: 'enabled' | 'CHRONICLE_ENABLED',
    kinds: readonly string[] = [],
  ) {
    const quoted = unknown.map((name) => `"${name}"`).join(', ');
    const what =
      kinds.length > 1
        ? `${kinds.slice(0, -1).join(', ')} or ${kinds[kinds.length - 1]}`
        : (kinds[0] ?? 'Chronicle handlers');
    super(
      `${source} names ${quoted}, which ${unknown.length > 1 ? 'match' : 'matches'} no module ` +
        `holding ${what} (or importing one that does). ` +
        (modules.length > 0
          ? `The modules that do: ${modules.map(describeModule).join(', ')}. `
          : 'This app has no such module. ') +
        `Fix the name${unknown.length > 1 ? 's' : ''} in ${source}, or unset it to run every module here.`,
    );
  }
}

/** `OrdersModule` -> `orders (OrdersModule)`: the short name is what users write. */
function describeModule(className: string): string {
  const short = className.replace(/Module$/, '');
  return `${short.charAt(0).toLowerCase()}${short.slice(1)} (${className})`;
}
