import type { Duration } from '@chronicle/core';

/** A `when` action: the fixture's clock moves on, and what came due is delivered. */
export interface TimeElapses {
  readonly kind: 'time-elapses';
  readonly duration: Duration;
}

/** `when(timeElapses('15m'))`: move the fixture's clock and deliver what came due. */
export function timeElapses(duration: Duration): TimeElapses {
  return { kind: 'time-elapses', duration };
}

export function isTimeElapses(value: unknown): value is TimeElapses {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'time-elapses'
  );
}
