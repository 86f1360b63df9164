import type { LoggerService } from '@nestjs/common';
import { INVALID_TRACEID, trace } from '@opentelemetry/api';
import { ErrorTypeRegistry } from '../messages/index.js';
import {
  classifyError,
  HEADER,
  type RemoteHandlerError,
  type WireMessage,
} from '../transport/index.js';

/**
 * Says, in the serving app's log, once per failed request, what the caller
 * only hears as a code: the message's type, id and correlation id, and the
 * error. A declared error (`@ErrorType`) is a business outcome: one line at
 * `log` level. Another Chronicle error (an invalid message, a conflict after
 * the retries) is the caller's or the moment's: one line at `warn`, no stack.
 * Anything else is a failure of this app: `error`, with the stack, which the
 * caller does not get (its reply names the message id to look for here).
 */
export function logServedFailure(
  logger: LoggerService,
  error: unknown,
  request: WireMessage,
  messageType: string,
  wantedReply: boolean,
): void {
  const correlation = request.headers[HEADER.correlationId];
  // Always told: the caller's error names this message id to look for here,
  // even when a command it sent failed with the same error and was told first.
  writeFailure(logger, error, {
    messageType,
    messageId: request.headers[HEADER.id] ?? '(no id)',
    correlationId: correlation,
    sentWithoutWaiting: !wantedReply,
  });
}

/** The message whose handling failed, as a failure's log line names it. */
export interface FailedMessage {
  readonly messageType: string;
  readonly messageId: string;
  readonly correlationId?: string;
  readonly sentWithoutWaiting?: boolean;
}

// Errors already logged: a failure that several handlings in this process
// rethrow (a command sent inside another's handler) is told once, where it
// happened.
const logged = new WeakSet<object>();

/**
 * Logs the failure of a handling run in this process once, at the levels
 * `logServedFailure` describes, with the trace id when a span is active (so
 * a log line leads to its trace); an error already logged is not told again.
 */
export function logHandlingFailure(
  logger: LoggerService,
  error: unknown,
  message: FailedMessage,
): void {
  if (typeof error === 'object' && error !== null && logged.has(error)) return;
  writeFailure(logger, error, message);
}

function writeFailure(
  logger: LoggerService,
  error: unknown,
  message: FailedMessage,
): void {
  if (typeof error === 'object' && error !== null) logged.add(error);
  const { messageType, messageId, correlationId } = message;
  const traceId = trace.getActiveSpan()?.spanContext().traceId;
  const what =
    `${messageType} message ${printable(messageId)}` +
    (correlationId ? ` (correlation ${printable(correlationId)})` : '') +
    (traceId && traceId !== INVALID_TRACEID ? ` [trace ${traceId}]` : '') +
    (message.sentWithoutWaiting ? ', sent without waiting,' : '');
  const err = error instanceof Error ? error : new Error(String(error));
  switch (classifyError(err)) {
    case 'declared': {
      const type =
        ErrorTypeRegistry.forError(err)?.name ??
        (err as RemoteHandlerError).errorType;
      logger.log(`${what} was refused: ${type}: ${err.message}`);
      return;
    }
    case 'chronicle':
      logger.warn(
        `${what} failed: ${err.name} (${(err as { code?: string }).code}): ${err.message}`,
      );
      return;
    case 'unexpected':
      logger.error(
        `${what} failed in its handler: ${err.name}: ${err.message}`,
        err.stack,
      );
  }
}

/** A header's value as a log can show it: one line, bounded. */
function printable(value: string): string {
  const bounded = value.length > 200 ? `${value.slice(0, 200)}...` : value;
  return /[\p{Cc}\p{Cs}]/u.test(bounded) ? JSON.stringify(bounded) : bounded;
}
