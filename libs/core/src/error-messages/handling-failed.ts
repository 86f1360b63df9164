import type { FailedKind, NextStep } from '../handling/index.js';
import type { LoggedError, LoggedOutcome } from '../message-log/index.js';

/** The type name every error message travels and is logged under. */
export const ERROR_MESSAGE_TYPE = 'chronicle.Error';

/** The fields of a `HandlingFailed`, as its JSON carries them. */
export interface HandlingFailedFields {
  /** This error message's own id: derived from the failed message's id, the handler and the attempt. */
  readonly id: string;
  /** The message whose handling failed: its id, type, kind and correlation id. */
  readonly messageId: string;
  readonly messageType: string;
  readonly messageKind: FailedKind;
  readonly correlationId: string;
  /** The handler's stable name, e.g. `command:PlaceOrderHandler` or `consumer:billing:onOrderPlaced`. */
  readonly handler: string;
  /** The app and the instance (`tracking.instanceId`, else `host:pid`) where it failed. */
  readonly app: string;
  readonly instance: string;
  /** The error's class, code and message; its stack only with the failing app's `messageLog.stacks`. */
  readonly error: LoggedError;
  /** `rejected` (a declared error, an invalid message) or `failed` (anything else). */
  readonly outcome: Exclude<LoggedOutcome, 'ok'>;
  /** Which try failed, from 1. */
  readonly attempt: number;
  readonly next: NextStep;
  /** When it failed (ISO 8601). */
  readonly failedAt: string;
}

/**
 * The error message (type `chronicle.Error`): one handling of one message
 * failed. One class for every kind of handling, so that one `@HandleError()`
 * method sees them all; `messageKind` says which, the subject (and the
 * log row's `type`) the failed message's type. It never carries the failed
 * message's payload: what the log masks cannot leak through it.
 */
export class HandlingFailed implements HandlingFailedFields {
  readonly id: string;
  readonly messageId: string;
  readonly messageType: string;
  readonly messageKind: FailedKind;
  readonly correlationId: string;
  readonly handler: string;
  readonly app: string;
  readonly instance: string;
  readonly error: LoggedError;
  readonly outcome: Exclude<LoggedOutcome, 'ok'>;
  readonly attempt: number;
  readonly next: NextStep;
  readonly failedAt: string;

  constructor(fields: HandlingFailedFields) {
    this.id = fields.id;
    this.messageId = fields.messageId;
    this.messageType = fields.messageType;
    this.messageKind = fields.messageKind;
    this.correlationId = fields.correlationId;
    this.handler = fields.handler;
    this.app = fields.app;
    this.instance = fields.instance;
    this.error = fields.error;
    this.outcome = fields.outcome;
    this.attempt = fields.attempt;
    this.next = fields.next;
    this.failedAt = fields.failedAt;
  }
}

const KINDS: readonly string[] = ['command', 'query', 'event', 'schedule'];
const NEXT: readonly string[] = [
  'returned',
  'retry',
  'dead-letter',
  'parked',
  'stopped',
  'dead',
  'skipped',
];

/** A `HandlingFailed` from JSON off the wire, or a sentence saying what is wrong with it. */
export function handlingFailedFrom(
  payload: Record<string, unknown>,
): HandlingFailed | string {
  for (const key of [
    'id',
    'messageId',
    'messageType',
    'correlationId',
    'handler',
    'app',
    'instance',
    'failedAt',
  ]) {
    if (typeof payload[key] !== 'string') return `${key} is not a string`;
  }
  const error = payload.error as Record<string, unknown> | null | undefined;
  if (
    typeof error !== 'object' ||
    error === null ||
    typeof error.name !== 'string' ||
    typeof error.message !== 'string'
  ) {
    return 'error is not { name, message }';
  }
  if (!KINDS.includes(payload.messageKind as string))
    return 'messageKind is not command, query, event or schedule';
  if (!NEXT.includes(payload.next as string)) return 'next is unknown';
  if (payload.outcome !== 'rejected' && payload.outcome !== 'failed')
    return 'outcome is not rejected or failed';
  if (!Number.isInteger(payload.attempt)) return 'attempt is not a number';
  return new HandlingFailed(payload as unknown as HandlingFailedFields);
}
