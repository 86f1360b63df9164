import {
  ChronicleError,
  ValidationError,
  type Envelope,
  type FieldViolation,
} from '../messages/index.js';
import {
  MalformedMessageError,
  RemoteHandlerError,
} from './transport.errors.js';
import type { WireMessage } from './transport.js';

/*
 * How an envelope travels: identity and context in headers, so that routers,
 * tracing and logs can read them without parsing the body; the payload as JSON.
 * Replies say `ok` or `error` in a header; an error's body carries its name,
 * code and message (and its stack only when the sender asked for debug).
 */
export const HEADER = {
  id: 'Chronicle-Message-Id',
  type: 'Chronicle-Type',
  revision: 'Chronicle-Revision',
  timestamp: 'Chronicle-Timestamp',
  correlationId: 'Chronicle-Correlation-Id',
  causationId: 'Chronicle-Causation-Id',
  traceparent: 'traceparent',
  metadata: 'Chronicle-Metadata',
  status: 'Chronicle-Status',
  debug: 'Chronicle-Debug',
  firstSend: 'Chronicle-First-Send',
  /** How long the caller still waits, in ms, when this try was sent (the receiver counts from arrival). */
  timeoutMs: 'Chronicle-Timeout-Ms',
  /** On a reply: the request was not started (`busy`: try again; `deadline`: the caller gave up). */
  refused: 'Chronicle-Refused',
} as const;

export function encodeRequest(
  envelope: Envelope,
  payload: unknown,
  options: { debug?: boolean; firstSend?: boolean } = {},
): WireMessage {
  const { correlationId, causationId, traceparent, ...user } =
    envelope.metadata;
  const headers: Record<string, string> = {
    [HEADER.id]: envelope.id,
    [HEADER.type]: envelope.type,
    [HEADER.revision]: String(envelope.revision),
    [HEADER.timestamp]: envelope.timestamp.toISOString(),
    [HEADER.correlationId]: correlationId,
  };
  if (causationId) headers[HEADER.causationId] = causationId;
  if (typeof traceparent === 'string')
    headers[HEADER.traceparent] = traceparent;
  if (Object.keys(user).length > 0)
    headers[HEADER.metadata] = JSON.stringify(user);
  if (options.debug) headers[HEADER.debug] = '1';
  if (options.firstSend) headers[HEADER.firstSend] = '1';
  return { headers, body: JSON.stringify(payload) };
}

/** The id of the message a request carries (every request names one). */
export function messageIdOf(message: WireMessage): string {
  return message.headers[HEADER.id] ?? '(no id)';
}

export interface DecodedRequest {
  readonly id: string;
  readonly type: string;
  readonly revision: number;
  readonly timestamp: Date;
  readonly metadata: Record<string, unknown>;
  readonly payload: unknown;
  readonly debug: boolean;
  /** The sender made this id for this send: no earlier outcome can exist. */
  readonly firstSend: boolean;
}

/** Reads a request off the wire, or throws `MalformedMessageError` saying what is wrong. */
export function decodeRequest(
  message: WireMessage,
  subjectType: string,
): DecodedRequest {
  const h = message.headers;
  const id = h[HEADER.id];
  const type = h[HEADER.type] ?? subjectType;
  if (!id)
    throw new MalformedMessageError(
      `Message to ${subjectType} has no ${HEADER.id} header.`,
    );
  if (type !== subjectType) {
    throw new MalformedMessageError(
      `Message of type ${type} was sent on the subject of ${subjectType}.`,
    );
  }
  let payload: unknown;
  let user: Record<string, unknown> = {};
  try {
    payload = JSON.parse(message.body);
    if (h[HEADER.metadata])
      user = JSON.parse(h[HEADER.metadata]) as Record<string, unknown>;
  } catch (error) {
    throw new MalformedMessageError(
      `Message ${id} (${type}) is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (
    payload === null ||
    typeof payload !== 'object' ||
    Array.isArray(payload)
  ) {
    throw new MalformedMessageError(
      `Message ${id} (${type}) must carry a JSON object.`,
    );
  }
  const timestamp = h[HEADER.timestamp]
    ? new Date(h[HEADER.timestamp])
    : new Date();
  const metadata: Record<string, unknown> = { ...user };
  if (h[HEADER.correlationId]) metadata.correlationId = h[HEADER.correlationId];
  if (h[HEADER.causationId]) metadata.causationId = h[HEADER.causationId];
  if (h[HEADER.traceparent]) metadata.traceparent = h[HEADER.traceparent];
  return {
    id,
    type,
    revision: Number(h[HEADER.revision] ?? 1),
    timestamp: Number.isNaN(timestamp.getTime()) ? new Date() : timestamp,
    metadata,
    payload,
    debug: h[HEADER.debug] === '1',
    firstSend: h[HEADER.firstSend] === '1',
  };
}

export function encodeResult(result: unknown): WireMessage {
  return {
    headers: { [HEADER.status]: 'ok' },
    body: result === undefined ? '{}' : JSON.stringify({ result }),
  };
}

interface ErrorBody {
  name: string;
  code: string;
  message: string;
  messageType?: string;
  violations?: FieldViolation[];
  stack?: string;
}

/** An error as the caller will see it; the stack only travels when asked for. */
export function encodeError(error: unknown, debug: boolean): WireMessage {
  const err = error instanceof Error ? error : new Error(String(error));
  const ownCode = (err as { code?: unknown }).code;
  const body: ErrorBody = {
    // `class OrderRuleViolated extends Error {}` keeps the name "Error": the class says more.
    name:
      err.name === 'Error' && err.constructor !== Error
        ? err.constructor.name
        : err.name,
    code:
      err instanceof ChronicleError
        ? err.code
        : typeof ownCode === 'string'
          ? ownCode
          : 'HANDLER_FAILED',
    message: err.message,
  };
  if (err instanceof ValidationError) {
    body.messageType = err.messageType;
    body.violations = [...err.violations];
  }
  if (debug && err.stack) body.stack = err.stack;
  return { headers: { [HEADER.status]: 'error' }, body: JSON.stringify(body) };
}

/** The result a reply carries, or the typed error it describes (naming the request's id). */
export function decodeReply(
  reply: WireMessage,
  messageType: string,
  messageId?: string,
): unknown {
  let body: unknown;
  try {
    body = JSON.parse(reply.body || '{}');
  } catch {
    throw new MalformedMessageError(
      `The reply to ${messageType} is not valid JSON.`,
    );
  }
  if (reply.headers[HEADER.status] !== 'error') {
    return (body as { result?: unknown }).result;
  }
  const error = body as ErrorBody;
  if (error.code === 'VALIDATION_FAILED' && error.violations) {
    return throwing(
      new ValidationError(error.messageType ?? messageType, error.violations),
    );
  }
  return throwing(
    new RemoteHandlerError(
      messageType,
      error.name,
      error.code,
      error.message,
      error.stack,
      messageId,
    ),
  );
}

function throwing(error: Error): never {
  throw error;
}
