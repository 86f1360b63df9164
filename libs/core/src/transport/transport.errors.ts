import { ChronicleError } from '../messages/index.js';

/** No app serves this message type right now (NATS answered "no responders"). */
export class NoHandlerError extends ChronicleError {
  readonly code = 'NO_HANDLER';

  constructor(readonly messageType: string) {
    super(
      `No handler for ${messageType} is online. Start an app that handles it, ` +
        'or check that both sides use the same namespace.',
    );
  }
}

/** The handler did not answer in time; it may still have run. */
export class TimeoutError extends ChronicleError {
  readonly code = 'TIMEOUT';

  constructor(
    readonly messageType: string,
    readonly timeoutMs: number,
  ) {
    super(
      `${messageType} got no answer within ${timeoutMs} ms. It may still have been handled: ` +
        'send it again with the same id to be safe, or raise the timeout.',
    );
  }
}

/** The transport cannot carry the message now (disconnected, closed, draining). */
export class TransportError extends ChronicleError {
  readonly code = 'TRANSPORT';
}

/** The handler in another app threw; `code` and `remoteName` are its error's. */
export class RemoteHandlerError extends ChronicleError {
  readonly code: string;

  constructor(
    readonly messageType: string,
    readonly remoteName: string,
    code: string,
    message: string,
    readonly remoteStack?: string,
  ) {
    super(message);
    this.code = code;
  }
}

/** A message on the wire could not be read (no type, bad JSON, unknown type). */
export class MalformedMessageError extends ChronicleError {
  readonly code = 'MALFORMED_MESSAGE';
}
