import type { AggregateClass, AggregateRoot } from '@chronicle/core';

/** Prior events on one stream, for `given` (and for `when`, to test consumers). */
export interface StreamEvents {
  readonly kind: 'stream-events';
  /** A stream id, or an aggregate class and id (the repository names the stream). */
  readonly stream:
    | string
    | {
        readonly aggregate: AggregateClass<AggregateRoot>;
        readonly id: string;
      };
  readonly events: readonly object[];
}

/** Events of one aggregate: `onAggregate(Order, 'o-1', new OrderPlaced(...))`. */
export function onAggregate(
  aggregate: AggregateClass<AggregateRoot>,
  id: string,
  ...events: object[]
): StreamEvents {
  return { kind: 'stream-events', stream: { aggregate, id }, events };
}

/** Events on a stream named by its id: `onStream('orders.Order-o-1', ...)`. */
export function onStream(streamId: string, ...events: object[]): StreamEvents {
  return { kind: 'stream-events', stream: streamId, events };
}

export function isStreamEvents(value: unknown): value is StreamEvents {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'stream-events'
  );
}
