/** What kind of message a failed handling was handling. */
export type FailedKind = 'command' | 'query' | 'event' | 'schedule';

/**
 * What happens after a failed handling: `returned`, the error went back to
 * the caller of a command or query (nothing more happens here); `retry`, the
 * event or schedule is tried again; `dead-letter`, a consumer skipped the
 * event (its `skip` policy); `parked`, a consumer parked the event's stream
 * (`park` policy: it runs again when the stream is retried); `stopped`, the
 * consumer's segment stopped on it (`stop` policy); `dead`, a schedule is kept as dead after its last try;
 * `skipped`, a notification handler failed and this instance moved on (a
 * notification is live only: there is no stored position to retry from), or
 * a consumer's handler was refused an event by its access rule (security/).
 */
export type NextStep =
  | 'returned'
  | 'retry'
  | 'dead-letter'
  | 'parked'
  | 'stopped'
  | 'dead'
  | 'skipped';

/** One failed handling of one message, as the part that ran the handler saw it. */
export interface HandlingFailure {
  readonly kind: FailedKind;
  readonly messageId: string;
  readonly messageType: string;
  /** The failed message's metadata: its correlation id, user keys, trace context. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The handler's stable name (`command:PlaceOrderHandler`, `consumer:billing:onOrderPlaced`...). */
  readonly handler: string;
  readonly error: unknown;
  /** Which try this was, from 1. */
  readonly attempt: number;
  readonly next: NextStep;
}

/**
 * Where the parts that run handlers (the command pipeline, consumers, the
 * scheduler) report each failure, so that it becomes an error message. A
 * port here because handling comes before the part that implements it
 * (error-messages/). `report` never throws and never waits.
 */
export abstract class FailureReporter {
  abstract report(failure: HandlingFailure): void;

  /** The error message `report` makes of `failure`, as JSON; undefined when it makes none. */
  errorMessageOf(
    _failure: HandlingFailure,
  ): Record<string, unknown> | undefined {
    return undefined;
  }
}
