import { Logger } from '@nestjs/common';
import { FailureReporter, type HandlingFailure } from '../handling/index.js';
import {
  loggedErrorOf,
  loggedOutcomeOf,
  type MessageLogWriter,
} from '../message-log/index.js';
import { deriveMessageId, type Envelope } from '../messages/index.js';
import {
  encodeRequest,
  errorSubject,
  NoHandlerError,
  type Transport,
} from '../transport/index.js';
import {
  ERROR_MESSAGE_TYPE,
  HandlingFailed,
  type HandlingFailedFields,
} from './handling-failed.js';

/** Where this process runs: named in every error message it makes. */
export interface ErrorSource {
  readonly app: string;
  readonly instance: string;
  readonly namespace: string;
}

/** How often a failed publish is logged at most. */
const WARN_EVERY_MS = 10_000;

/**
 * Turns each reported failure into an error message: recorded in the
 * message log (kind `error`, written behind) and published on
 * `chronicle.<ns>.error.<FailedType>`, fire and forget (NATS core: at most
 * once). Neither waits, and neither can fail the handling it reports.
 */
export class ErrorMessages extends FailureReporter {
  private readonly logger = new Logger('Chronicle errors');
  private lastWarning = 0;

  constructor(
    private readonly transport: Transport,
    private readonly writer: MessageLogWriter,
    private readonly source: ErrorSource,
  ) {
    super();
  }

  report(failure: HandlingFailure): void {
    try {
      const { message, envelope } = this.messageOf(failure);
      this.writer.record({
        kind: 'error',
        id: message.id,
        // The failed message's type: a search by type finds its errors too.
        type: message.messageType,
        payload: { ...message },
        metadata: envelope.metadata,
        app: message.app,
        instance: message.instance,
        receivedAt: envelope.timestamp,
        finishedAt: envelope.timestamp,
        outcome: message.outcome,
        error: message.error,
      });
      this.transport
        .publish(
          errorSubject(this.source.namespace, message.messageType),
          encodeRequest(envelope, { ...message }, { app: this.source.app }),
        )
        .catch((error: unknown) => this.warn(message, error));
    } catch (error) {
      this.warn(undefined, error);
    }
  }

  override errorMessageOf(failure: HandlingFailure): Record<string, unknown> {
    return { ...this.messageOf(failure).message };
  }

  /** The error message of a failure, and its envelope: caused by the failed message, in its conversation. */
  messageOf(failure: HandlingFailure): {
    message: HandlingFailed;
    envelope: Envelope<HandlingFailedFields>;
  } {
    const at = new Date();
    const correlation = failure.metadata.correlationId;
    const correlationId =
      typeof correlation === 'string' ? correlation : failure.messageId;
    const message = new HandlingFailed({
      // The same failure reported again (a batch re-read, a re-delivery) has the same id.
      id: deriveMessageId(
        failure.messageId,
        failure.handler,
        ERROR_MESSAGE_TYPE,
        failure.attempt,
      ),
      messageId: failure.messageId,
      messageType: failure.messageType,
      messageKind: failure.kind,
      correlationId,
      handler: failure.handler,
      app: this.source.app,
      instance: this.source.instance,
      error: loggedErrorOf(failure.error, this.writer.options.stacks),
      outcome:
        loggedOutcomeOf(failure.error) === 'rejected' ? 'rejected' : 'failed',
      attempt: failure.attempt,
      next: failure.next,
      failedAt: at.toISOString(),
    });
    const envelope: Envelope<HandlingFailedFields> = {
      id: message.id,
      type: ERROR_MESSAGE_TYPE,
      revision: 1,
      payload: message,
      metadata: {
        ...failure.metadata,
        correlationId,
        causationId: failure.messageId,
      },
      timestamp: at,
    };
    return { message, envelope };
  }

  private warn(message: HandlingFailed | undefined, error: unknown): void {
    // In process, nobody listening is refused; over NATS it is silent: the same here.
    if (error instanceof NoHandlerError) return;
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    const what = message
      ? `the error message of ${message.messageType} ${message.messageId}`
      : 'an error message';
    this.logger.warn(
      `Could not publish ${what}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
