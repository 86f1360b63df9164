import { ChronicleError } from '../messages/index.js';

/*
 * Every error about one message on its way names the message's id
 * (`messageId`): sending it again with that id (`gateway.send(command, { id:
 * error.messageId })`, or executing the same instance again) is always safe,
 * since a handler that already ran it returns its first result.
 */

/** No app serves this message type right now (NATS answered "no responders"). Not handled. */
export class NoHandlerError extends ChronicleError {
  readonly code = 'NO_HANDLER';

  constructor(
    readonly messageType: string,
    readonly messageId?: string,
  ) {
    super(
      `No handler for ${messageType} is online${messageId ? ` (message ${messageId} was not handled)` : ''}. ` +
        'Start an app that handles it, or check that both sides use the same namespace.',
    );
  }
}

/** The handler did not answer in time; it may still have run. */
export class TimeoutError extends ChronicleError {
  readonly code = 'TIMEOUT';

  constructor(
    readonly messageType: string,
    readonly timeoutMs: number,
    readonly messageId: string,
  ) {
    super(
      `${messageType} (message ${messageId}) got no answer within ${timeoutMs} ms. It may still have been handled: ` +
        'send it again with the same id (`{ id: error.messageId }`, or the same instance) to be safe, or raise the timeout.',
    );
  }
}

/**
 * The connection to NATS dropped while the message was out: it may have been
 * handled, or not. Raised at once, without waiting for the timeout.
 */
export class InDoubtError extends ChronicleError {
  readonly code = 'IN_DOUBT';

  constructor(
    readonly messageType: string,
    readonly messageId: string,
    reason = 'The connection to NATS dropped while waiting for the reply',
  ) {
    super(
      `${reason}: ${messageType} (message ${messageId}) may or may not have been handled. ` +
        'Send it again with the same id (`{ id: error.messageId }`, or the same instance): ' +
        'if it was handled, the first result comes back and nothing runs twice.',
    );
  }
}

/**
 * The transport could not carry the message (disconnected, closed, draining):
 * it was certainly not sent, so no handler ran it.
 */
export class TransportError extends ChronicleError {
  readonly code = 'TRANSPORT';
  /** The message that was not sent, when the error is about one. */
  readonly messageId?: string;

  constructor(
    message: string,
    options?: ErrorOptions & { readonly messageId?: string },
  ) {
    super(message, options);
    this.messageId = options?.messageId;
  }
}

/** What a `RemoteHandlerError` says beyond the message: all optional. */
export interface RemoteErrorDetails {
  /** The handler's stack, only when the serving app runs with `transport.debug`. */
  readonly remoteStack?: string;
  /** The message whose handling failed: to find it in the serving app's log, or resend it. */
  readonly messageId?: string;
  /** The `@ErrorType` name of a declared error whose class this process has not loaded. */
  readonly errorType?: string;
  /** That declared error's fields, as JSON made them. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * The handler in another app failed, and the error is not one this process can
 * rebuild as its class. `code` is `HANDLER_FAILED` for an unexpected error
 * (details only in the serving app's log, under `messageId`), a Chronicle
 * error's code (`CONCURRENCY_CONFLICT`...), or the code of a declared error
 * (`@ErrorType`) whose class is not loaded here: then `errorType` and `fields`
 * say what it was.
 */
export class RemoteHandlerError extends ChronicleError {
  readonly code: string;
  readonly remoteStack?: string;
  readonly messageId?: string;
  readonly errorType?: string;
  readonly fields?: Readonly<Record<string, unknown>>;

  constructor(
    readonly messageType: string,
    /** The remote error's name (its class's, for a plain `extends Error`). */
    readonly remoteName: string,
    code: string,
    message: string,
    details: RemoteErrorDetails = {},
  ) {
    super(message);
    this.code = code;
    this.remoteStack = details.remoteStack;
    this.messageId = details.messageId;
    this.errorType = details.errorType;
    this.fields = details.fields;
  }
}

/** A message on the wire could not be read (no type, bad JSON, unknown type). */
export class MalformedMessageError extends ChronicleError {
  readonly code = 'MALFORMED_MESSAGE';
}

/**
 * Every instance that serves the type was at its limit of handlers and
 * waiting requests on every try until the caller's timeout: the message was
 * certainly not handled.
 */
export class HandlersBusyError extends ChronicleError {
  readonly code = 'HANDLERS_BUSY';

  constructor(
    readonly messageType: string,
    readonly messageId: string,
    readonly timeoutMs?: number,
  ) {
    super(
      `Every handler of ${messageType} was busy${timeoutMs === undefined ? '' : ` for ${timeoutMs} ms`}: ` +
        `message ${messageId} was not handled. Send it again with the same id later, or give the ` +
        'serving app more room (`transport.maxConcurrentHandlers`, `maxQueuedRequests`, more instances).',
    );
  }
}

/**
 * The reply to a request that waited for a handler past its caller's
 * deadline: it was not started. The caller has given up and never reads it.
 */
export class DeadlineExceededError extends ChronicleError {
  readonly code = 'DEADLINE_EXCEEDED';

  constructor(
    readonly messageType: string,
    readonly messageId: string,
  ) {
    super(
      `${messageType} (message ${messageId}) was not started: its caller's deadline passed while it waited for a handler.`,
    );
  }
}

const bytes = (n: number) => `${n.toLocaleString('en-US')} bytes`;

/**
 * A request (headers and body) is larger than the transport carries (over
 * NATS, the server's `max_payload`). Refused before anything was sent: no
 * handler ran it.
 */
export class RequestTooLargeError extends ChronicleError {
  readonly code = 'REQUEST_TOO_LARGE';

  constructor(
    readonly messageType: string,
    readonly messageId: string,
    /** The request's size on the wire: headers and body, in bytes. */
    readonly size: number,
    /** The most the transport carries, in bytes. */
    readonly limit: number,
  ) {
    super(
      `${messageType} (message ${messageId}) is ${bytes(size)} on the wire, over the transport's limit of ` +
        `${bytes(limit)}; it was not sent. Send less per message (split it, or store the data and send ` +
        "a reference to it), or raise the NATS server's max_payload.",
    );
  }
}

/**
 * The handler's reply was larger than the transport carries, so the caller
 * gets this instead. The handler ran, and a command's effects were committed:
 * sending it again with the same id returns this error again, not a new run.
 */
export class ReplyTooLargeError extends ChronicleError {
  readonly code = 'REPLY_TOO_LARGE';

  constructor(
    readonly messageType: string,
    readonly messageId: string,
    /** The reply's size on the wire: headers and body, in bytes. */
    readonly size: number,
    /** The most the transport carries, in bytes. */
    readonly limit: number,
  ) {
    super(
      `The reply to ${messageType} (message ${messageId}) is ${bytes(size)} on the wire, over the ` +
        `transport's limit of ${bytes(limit)}, so it could not be sent back. The handler ran (a command's ` +
        'effects are committed). Return less (page a query, return ids rather than whole records), ' +
        "or raise the NATS server's max_payload.",
    );
  }
}

/**
 * NATS refused this app's publish or subscription: its NATS user has no
 * permission for the subject (a "Permissions Violation"). A refused request
 * was certainly not delivered, so no handler ran it; it is refused again
 * until the user's permissions change.
 */
export class NotPermittedError extends ChronicleError {
  readonly code = 'NOT_PERMITTED';
  readonly messageType?: string;
  readonly messageId?: string;

  constructor(
    readonly operation: 'publish' | 'subscribe',
    readonly subject: string,
    details: {
      readonly messageType?: string;
      readonly messageId?: string;
    } = {},
  ) {
    const what = details.messageType
      ? `${details.messageType}${details.messageId ? ` (message ${details.messageId})` : ''} was not sent: `
      : '';
    super(
      `${what}NATS refused to let this app ${operation} ${operation === 'publish' ? 'to' : 'on'} "${subject}": ` +
        `its NATS user has no ${operation} permission for that subject. Nothing was handled. Add the ` +
        "subject to the user's permissions (`npx chronicle nats-permissions --module <app module>` " +
        'prints what the app needs), or do not send this message from this app.',
    );
    this.messageType = details.messageType;
    this.messageId = details.messageId;
  }
}

/** NATS was configured in a way Chronicle cannot use (credentials given twice, a creds file missing...). */
export class NatsConfigurationError extends ChronicleError {
  readonly code = 'NATS_CONFIGURATION';
}

/** How a request failed in transport, as metrics count it (`chronicle_transport_errors_total{error}`). */
export type TransportErrorKind =
  | 'timeout'
  | 'no_handler'
  | 'busy'
  | 'in_doubt'
  | 'not_sent'
  | 'not_permitted'
  | 'too_large';

/**
 * The transport failure an error of `Transport.request` (or a decoded reply)
 * stands for; undefined for anything else, a remote handler's own error
 * included: that is an outcome of the handler, not of the transport.
 */
export function transportErrorKind(
  error: unknown,
): TransportErrorKind | undefined {
  if (error instanceof TimeoutError) return 'timeout';
  if (error instanceof NoHandlerError) return 'no_handler';
  if (error instanceof HandlersBusyError) return 'busy';
  if (error instanceof InDoubtError) return 'in_doubt';
  if (error instanceof NotPermittedError) return 'not_permitted';
  if (error instanceof TransportError) return 'not_sent';
  if (
    error instanceof RequestTooLargeError ||
    error instanceof ReplyTooLargeError
  )
    return 'too_large';
  return undefined;
}
