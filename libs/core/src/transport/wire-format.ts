import {
  ChronicleError,
  checkId,
  checkMetadata,
  isPlainObject,
  previewForError,
  errorFields,
  ErrorTypeRegistry,
  rebuildError,
  ValidationError,
  type Envelope,
  type FieldViolation,
} from '../messages/index.js';
import { DatabaseUnavailableError } from '../store/index.js';
import {
  MalformedMessageError,
  RemoteHandlerError,
  ReplyTooLargeError,
} from './transport.errors.js';
import type { WireMessage } from './transport.js';

/*
 * How an envelope travels: identity and context in headers, so that routers,
 * tracing and logs can read them without parsing the body; the payload as JSON.
 * Replies say `ok` or `error` in a header; an error's body carries its name,
 * code and message, a declared error's type and fields (and its stack only
 * when the serving app runs with `transport.debug`).
 */
export const HEADER = {
  id: 'Chronicle-Message-Id',
  type: 'Chronicle-Type',
  revision: 'Chronicle-Revision',
  timestamp: 'Chronicle-Timestamp',
  correlationId: 'Chronicle-Correlation-Id',
  causationId: 'Chronicle-Causation-Id',
  /** W3C trace context of the sending span (and its vendor state): see docs/guides/observability.md. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  metadata: 'Chronicle-Metadata',
  status: 'Chronicle-Status',
  firstSend: 'Chronicle-First-Send',
  /** The sending app's name, for the serving app's message log. */
  app: 'Chronicle-App',
  /** How long the caller still waits, in ms, when this try was sent (the receiver counts from arrival). */
  timeoutMs: 'Chronicle-Timeout-Ms',
  /** On a reply: the request was not started (`busy`: try again; `deadline`: the caller gave up). */
  refused: 'Chronicle-Refused',
} as const;

const OWN_HEADER_METADATA: ReadonlySet<string> = new Set([
  'correlationId',
  'causationId',
  'traceparent',
  'tracestate',
]);

export function encodeRequest(
  envelope: Envelope,
  payload: unknown,
  options: { firstSend?: boolean; app?: string } = {},
): WireMessage {
  const metadata = envelope.metadata;
  const { correlationId, causationId, traceparent, tracestate } = metadata;
  // The user's own metadata: all but the keys carried in headers of their own.
  let user: Record<string, unknown> | undefined;
  for (const key in metadata) {
    if (OWN_HEADER_METADATA.has(key)) continue;
    (user ??= {})[key] = metadata[key];
  }
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
  if (typeof tracestate === 'string') headers[HEADER.tracestate] = tracestate;
  if (user) headers[HEADER.metadata] = JSON.stringify(user);
  if (options.firstSend) headers[HEADER.firstSend] = '1';
  if (options.app !== undefined) headers[HEADER.app] = options.app;
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
  /** The sender made this id for this send: no earlier outcome can exist. */
  readonly firstSend: boolean;
  /** The app that says it sent it (a name, for the log; never trusted for anything else). */
  readonly senderApp?: string;
}

/** Reads a request off the wire, or throws saying what is wrong (see `checkRequestHeaders`). */
export function decodeRequest(
  message: WireMessage,
  subjectType: string,
): DecodedRequest {
  const h = message.headers;
  const { id, type, revision, timestamp, metadata } = checkRequestHeaders(
    h,
    subjectType,
  );
  let payload: unknown;
  try {
    payload = JSON.parse(message.body);
  } catch (error) {
    throw new MalformedMessageError(
      `Message ${id} (${type}) is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (!isPlainObject(payload)) {
    throw new MalformedMessageError(
      `Message ${id} (${type}) must carry a JSON object.`,
    );
  }
  return {
    id,
    type,
    revision,
    timestamp: timestamp ?? new Date(),
    metadata,
    payload,
    firstSend: h[HEADER.firstSend] === '1',
    senderApp: senderAppOf(h[HEADER.app]),
  };
}

/** A request's headers, checked. */
interface RequestHeaders {
  readonly id: string;
  readonly type: string;
  readonly revision: number;
  readonly timestamp?: Date;
  readonly metadata: Record<string, unknown>;
}

/*
 * Every header is checked as a sender in process is checked, with the same
 * typed errors: ids (`InvalidIdError`), metadata (`InvalidMetadataError`, a
 * JSON object of at most MAX_METADATA_BYTES); what cannot be read at all
 * (no id, a revision that is not a whole number from 1, a timestamp that is
 * not an ISO 8601 date-time, metadata that is not JSON) is a `MalformedMessageError`.
 */
function checkRequestHeaders(
  h: Readonly<Record<string, string>>,
  subjectType: string,
): RequestHeaders {
  const type = h[HEADER.type] ?? subjectType;
  if (type !== subjectType) {
    throw new MalformedMessageError(
      `Message of type ${previewForError(type)} was sent on the subject of ${subjectType}.`,
    );
  }
  if (h[HEADER.id] === undefined) {
    throw new MalformedMessageError(
      `Message to ${subjectType} has no ${HEADER.id} header.`,
    );
  }
  const id = checkId(h[HEADER.id], `${HEADER.id} header`);
  const where = `Message ${id} (${type})`;
  const metadata: Record<string, unknown> = {
    ...userMetadataOf(h[HEADER.metadata], where),
  };
  for (const [key, header] of [
    ['correlationId', HEADER.correlationId],
    ['causationId', HEADER.causationId],
  ] as const) {
    if (h[header] !== undefined)
      metadata[key] = checkId(h[header], `${header} header`);
  }
  if (h[HEADER.traceparent] !== undefined) {
    metadata.traceparent = traceparentOf(h[HEADER.traceparent], where);
  }
  // W3C allows up to 32 list members: longer than an id.
  if (h[HEADER.tracestate] !== undefined) {
    metadata.tracestate = checkId(
      h[HEADER.tracestate],
      `${HEADER.tracestate} header`,
      MAX_TRACESTATE_LENGTH,
    );
  }
  return {
    id,
    type,
    revision: revisionOf(h[HEADER.revision], where),
    timestamp: timestampOf(h[HEADER.timestamp], where),
    metadata,
  };
}

function userMetadataOf(
  header: string | undefined,
  where: string,
): Readonly<Record<string, unknown>> {
  if (header === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch (error) {
    throw new MalformedMessageError(
      `${where}: its ${HEADER.metadata} header is not valid JSON: ${(error as Error).message}`,
    );
  }
  return checkMetadata(parsed, `${HEADER.metadata} header`);
}

const MAX_TRACESTATE_LENGTH = 512;

// W3C Trace Context: version-traceid-parentid-flags, lowercase hex; a
// future version may append fields after a dash.
const TRACEPARENT =
  /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(-[\x21-\x7e]*)?$/;

/**
 * A `traceparent` header as W3C Trace Context writes it. Anything else is
 * refused like any unreadable header: a receiver would otherwise store it in
 * its events' metadata, where every later reader would try to continue it.
 */
function traceparentOf(header: string, where: string): string {
  if (header.length > 256 || !TRACEPARENT.test(header)) {
    throw new MalformedMessageError(
      `${where}: its ${HEADER.traceparent} header is not W3C trace context ` +
        `(00-<32 hex trace id>-<16 hex span id>-<2 hex flags>), got ${previewForError(header)}.`,
    );
  }
  return header;
}

const REVISION = /^[1-9][0-9]{0,9}$/;

function revisionOf(header: string | undefined, where: string): number {
  if (header === undefined) return 1;
  const revision = Number(header);
  if (!REVISION.test(header) || revision > 2 ** 31 - 1) {
    throw new MalformedMessageError(
      `${where}: its ${HEADER.revision} header must be a whole number from 1, got ${previewForError(header)}.`,
    );
  }
  return revision;
}

const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

function timestampOf(
  header: string | undefined,
  where: string,
): Date | undefined {
  if (header === undefined) return undefined;
  const timestamp = new Date(header);
  if (
    !ISO_DATE_TIME.test(header) ||
    Number.isNaN(timestamp.getTime()) ||
    timestamp.getUTCFullYear() < 1
  ) {
    throw new MalformedMessageError(
      `${where}: its ${HEADER.timestamp} header must be an ISO 8601 date-time ` +
        `(e.g. 2030-01-31T12:00:00.000Z), got ${previewForError(header)}.`,
    );
  }
  return timestamp;
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
  /** A declared error's `@ErrorType` name, and its fields. */
  errorType?: string;
  fields?: Record<string, unknown>;
  messageType?: string;
  violations?: FieldViolation[];
  stack?: string;
}

/**
 * What a failure is, for the caller and for the serving app's log:
 * - `declared`: an `@ErrorType` error, a business outcome (a rule said no);
 * - `chronicle`: any other `ChronicleError`, raised on purpose with a stable
 *   code (`ValidationError`, `ConcurrencyError` after its retries...);
 * - `unexpected`: anything else (a bug, a database error); its details stay
 *   in the serving app's log.
 */
export type FailureKind = 'declared' | 'chronicle' | 'unexpected';

export function classifyError(error: unknown): FailureKind {
  if (ErrorTypeRegistry.forError(error)) return 'declared';
  // A declared error from a further app whose class is not loaded here goes on as it came.
  if (error instanceof RemoteHandlerError && error.errorType) return 'declared';
  if (error instanceof ChronicleError) return 'chronicle';
  return 'unexpected';
}

/** What the serving side knows about the request an error answers. */
export interface ErrorReplyContext {
  readonly messageType: string;
  /** The failed message's id (`messageIdOf(request)`). */
  readonly messageId: string;
  /** The serving app's name, so the caller knows whose log to read. */
  readonly app?: string;
  /** The serving app's own `transport.debug`: send stacks back. Never the caller's word. */
  readonly debug: boolean;
}

/**
 * An error as the caller will see it. Declared errors and Chronicle errors
 * go as they are (name, code, message; a declared error's fields; a
 * ValidationError's violations); anything else goes as a generic
 * `HANDLER_FAILED` naming the message id, since its text may hold what
 * callers must not see (SQL, database codes, paths). The stack travels only
 * when the serving app runs with `debug`.
 */
export function encodeError(
  error: unknown,
  context: ErrorReplyContext,
): WireMessage {
  const err = error instanceof Error ? error : new Error(String(error));
  const body = errorBody(err, context);
  if (context.debug && err.stack) body.stack = err.stack;
  return { headers: { [HEADER.status]: 'error' }, body: JSON.stringify(body) };
}

function errorBody(err: Error, context: ErrorReplyContext): ErrorBody {
  const declared = ErrorTypeRegistry.forError(err);
  if (declared) {
    const ownCode = (err as { code?: unknown }).code;
    return {
      name: nameOf(err),
      code: typeof ownCode === 'string' ? ownCode : declared.name,
      message: err.message,
      errorType: declared.name,
      fields: errorFields(err),
    };
  }
  if (err instanceof RemoteHandlerError && err.errorType) {
    return {
      name: err.remoteName,
      code: err.code,
      message: err.message,
      errorType: err.errorType,
      fields: err.fields && { ...err.fields },
    };
  }
  if (err instanceof ValidationError) {
    return {
      name: err.name,
      code: err.code,
      message: err.message,
      messageType: err.messageType,
      violations: [...err.violations],
    };
  }
  if (err instanceof DatabaseUnavailableError) {
    // Its text is the driver's (hosts, ports); the code is what callers act on.
    return {
      name: err.name,
      code: err.code,
      message:
        `The database of ${appOf(context)} was unavailable while handling ${context.messageType} ` +
        `(message ${context.messageId}); nothing was kept. Send it again with the same id once it is back.`,
    };
  }
  if (err instanceof ChronicleError) {
    return { name: err.name, code: err.code, message: err.message };
  }
  return {
    name: 'Error',
    code: 'HANDLER_FAILED',
    message:
      `Handler of ${context.messageType} failed; see the log of ${appOf(context)} ` +
      `for message ${context.messageId}.`,
  };
}

function appOf(context: ErrorReplyContext): string {
  return context.app === undefined ? 'the serving app' : `app "${context.app}"`;
}

/** `class OrderRuleViolated extends Error {}` keeps the name "Error": the class says more. */
function nameOf(err: Error): string {
  return err.name === 'Error' && err.constructor !== Error
    ? err.constructor.name
    : err.name;
}

/**
 * The result a reply carries, or the error it describes: a declared error as
 * its class when this process has loaded it, a `ValidationError` as itself,
 * anything else as a `RemoteHandlerError` naming the request's id.
 */
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
  if (error.code === 'REPLY_TOO_LARGE') {
    const { size, limit } = body as { size?: unknown; limit?: unknown };
    return throwing(
      new ReplyTooLargeError(
        messageType,
        messageId ?? '(unknown)',
        Number(size),
        Number(limit),
      ),
    );
  }
  if (error.code === 'VALIDATION_FAILED' && error.violations) {
    return throwing(
      new ValidationError(error.messageType ?? messageType, error.violations),
    );
  }
  const declared =
    typeof error.errorType === 'string'
      ? ErrorTypeRegistry.forName(error.errorType)
      : undefined;
  const fields = isRecord(error.fields) ? error.fields : undefined;
  if (declared) {
    return throwing(
      rebuildError(declared.target, String(error.message), fields),
    );
  }
  return throwing(
    new RemoteHandlerError(
      messageType,
      String(error.name),
      String(error.code),
      String(error.message),
      {
        remoteStack: error.stack,
        messageId,
        errorType: error.errorType,
        fields,
      },
    ),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function throwing(error: Error): never {
  throw error;
}

/** A sender's app name as the log keeps it: a short subject token, else nothing. */
function senderAppOf(value: string | undefined): string | undefined {
  return value !== undefined && /^[A-Za-z0-9_-]{1,64}$/.test(value)
    ? value
    : undefined;
}
