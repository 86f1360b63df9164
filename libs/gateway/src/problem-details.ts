import { HttpException } from '@nestjs/common';
import {
  ChronicleError,
  ErrorTypeRegistry,
  RemoteHandlerError,
  ValidationError,
} from '@chronicle/core';

/** An RFC 9457 problem, as the gateway answers every failure (`application/problem+json`). */
export interface ProblemDetails {
  /** `urn:chronicle:problem:<code>`: stable, to branch on. */
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** The request's path. */
  readonly instance?: string;
  /** Chronicle's error code (`VALIDATION_FAILED`, `FORBIDDEN`, ...). */
  readonly code: string;
  /** The command's or query's id, when it had one. */
  readonly messageId?: string;
  /** With 400 for a payload that broke its rules: every failing field. */
  readonly errors?: readonly {
    readonly field: string;
    readonly constraints: Readonly<Record<string, string>>;
  }[];
  /** With 409 for a declared domain error: its `@ErrorType` name and fields. */
  readonly errorType?: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 400,
  MALFORMED_MESSAGE: 400,
  INVALID_ID: 400,
  INVALID_METADATA: 400,
  UNSTORABLE_TEXT: 400,
  // A document search the owning app refused (SearchDocuments over the wire).
  INVALID_SEARCH: 400,
  INVALID_FIELD_PATH: 400,
  INVALID_DOCUMENT: 400,
  UNREADABLE_USER: 401,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  UNKNOWN_MESSAGE_TYPE: 404,
  AGGREGATE_NOT_FOUND: 404,
  UNKNOWN_COLLECTION: 404,
  CONCURRENCY_CONFLICT: 409,
  COMMAND_ID_REUSED: 409,
  DOCUMENT_CONFLICT: 409,
  REQUEST_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  REPLY_TOO_LARGE: 502,
  NO_HANDLER: 503,
  HANDLERS_BUSY: 503,
  TRANSPORT: 503,
  DATABASE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  DEADLINE_EXCEEDED: 504,
  IN_DOUBT: 504,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A failure the gateway itself finds (unknown type, wrong content type...), with its code. */
export class GatewayError extends ChronicleError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const problem = (
  status: number,
  code: string,
  detail: string,
  extra: Partial<ProblemDetails> = {},
): ProblemDetails => ({
  type: `urn:chronicle:problem:${code}`,
  title: TITLES[status] ?? 'Error',
  status,
  detail,
  code,
  ...extra,
});

/**
 * What a failure means to an HTTP client. Chronicle's errors by their code
 * (a remote handler's too); a declared domain error (`@ErrorType`) is a 409
 * with its type and fields; Nest's own HTTP errors (a body too large or not
 * JSON, a guard's refusal, the rate limit) keep their status; anything else
 * is a 500 that says no more than where to look.
 */
export function problemOf(
  error: unknown,
  instance: string,
  messageId?: string,
): ProblemDetails {
  const where = { instance, ...(messageId ? { messageId } : {}) };
  if (error instanceof ValidationError) {
    return problem(400, error.code, error.message, {
      ...where,
      errors: error.violations.map((v) => ({
        field: v.field,
        constraints: { ...v.constraints },
      })),
    });
  }
  const declared = ErrorTypeRegistry.forError(error);
  if (
    declared &&
    !(error instanceof ChronicleError && error.code in STATUS_BY_CODE)
  ) {
    const err = error as Error & { code?: unknown };
    return problem(
      409,
      typeof err.code === 'string' ? err.code : declared.name,
      err.message,
      { ...where, errorType: declared.name, fields: ownFields(err) },
    );
  }
  if (error instanceof RemoteHandlerError) {
    if (error.errorType) {
      return problem(409, error.code, error.message, {
        ...where,
        errorType: error.errorType,
        fields: error.fields ? { ...error.fields } : undefined,
      });
    }
    return problem(
      STATUS_BY_CODE[error.code] ?? 500,
      error.code,
      error.message,
      where,
    );
  }
  if (error instanceof ChronicleError) {
    return problem(
      STATUS_BY_CODE[error.code] ?? 500,
      error.code,
      error.message,
      where,
    );
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code =
      status === 413
        ? 'REQUEST_TOO_LARGE'
        : status === 429
          ? 'RATE_LIMITED'
          : status === 400
            ? 'MALFORMED_MESSAGE'
            : `HTTP_${status}`;
    return problem(status, code, httpDetail(error, status), where);
  }
  return problem(
    500,
    'HANDLER_FAILED',
    messageId
      ? `The request failed; see the serving app's log for message ${messageId}.`
      : "The request failed; see the app's log.",
    where,
  );
}

function httpDetail(error: HttpException, status: number): string {
  if (status === 413) return 'The request body is over the size limit.';
  if (status === 429) return 'Too many requests: slow down and try again.';
  if (status === 400)
    return `The request body is not valid JSON: ${error.message}`;
  return error.message;
}

/** A declared error's own enumerable fields, as its caller would get them. */
function ownFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'code' && key !== 'stack') fields[key] = value;
  }
  return fields;
}
