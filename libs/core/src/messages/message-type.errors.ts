import { ChronicleError } from './chronicle.error.js';

export class DuplicateMessageTypeError extends ChronicleError {
  readonly code = 'DUPLICATE_MESSAGE_TYPE';

  constructor(
    readonly typeName: string,
    existing: string,
    incoming: string,
  ) {
    super(
      `Message type "${typeName}" is declared by both ${existing} and ${incoming}. ` +
        'Type names are stored with every message and must be unique; rename one of them.',
    );
  }
}

export class UnregisteredMessageError extends ChronicleError {
  readonly code = 'UNREGISTERED_MESSAGE';

  constructor(
    readonly className: string,
    kind: string,
  ) {
    super(
      `${className} has no stable type name. Decorate it with @${kind}Type('context.${className}') ` +
        'so that it can be stored and sent.',
    );
  }
}

export class UnknownMessageTypeError extends ChronicleError {
  readonly code = 'UNKNOWN_MESSAGE_TYPE';

  constructor(
    readonly typeName: string,
    readonly revision?: number,
    readonly position?: bigint,
  ) {
    const where = position === undefined ? '' : ` at position ${position}`;
    super(
      `No class is registered for message type "${typeName}"${revision === undefined ? '' : ` revision ${revision}`}${where}. ` +
        'Import the module that declares it, or add an upcaster for it.',
    );
  }
}

export class UnsupportedRevisionError extends ChronicleError {
  readonly code = 'UNSUPPORTED_REVISION';

  constructor(
    readonly typeName: string,
    readonly revision: number,
    readonly knownRevision: number,
    readonly position?: bigint,
  ) {
    const where = position === undefined ? '' : ` at position ${position}`;
    super(
      `Stored "${typeName}" revision ${revision}${where} is newer than revision ${knownRevision} ` +
        'that this code declares. Deploy the code that wrote it, or run an older reader.',
    );
  }
}
