import { ChronicleError } from '../messages/index.js';

export class AggregateNotFoundError extends ChronicleError {
  readonly code = 'AGGREGATE_NOT_FOUND';

  constructor(
    readonly aggregateType: string,
    readonly aggregateId: string,
  ) {
    super(
      `${aggregateType} "${aggregateId}" does not exist (its stream has no events).`,
    );
  }
}

export class NotAnAggregateError extends ChronicleError {
  readonly code = 'NOT_AN_AGGREGATE';

  constructor(className: string) {
    super(
      `${className} is not an aggregate: decorate it with @Aggregate() and extend AggregateRoot.`,
    );
  }
}
