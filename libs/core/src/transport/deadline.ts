import type { WireMessage } from './transport.js';
import { HEADER } from './wire-format.js';

/*
 * A caller's deadline travels as the time it still waits, in ms, when the try
 * is sent (`Chronicle-Timeout-Ms`), not as a moment: the caller's and the
 * receiver's clocks may differ by more than a timeout. The receiver counts it
 * from the request's arrival, so it gives up a little after the caller (by
 * the time the request took to reach it), never before.
 */

/** The message with the time its caller still waits. */
export function withTimeout(
  message: WireMessage,
  timeoutMs: number,
): WireMessage {
  return {
    headers: { ...message.headers, [HEADER.timeoutMs]: String(timeoutMs) },
    body: message.body,
  };
}

/**
 * How long the caller of this request still waited when it was sent, in ms;
 * undefined when it did not say (a message sent without waiting, an older
 * sender) or said something that is not a whole number of ms: no deadline.
 */
export function timeoutOf(message: WireMessage): number | undefined {
  const value = message.headers[HEADER.timeoutMs];
  if (value === undefined || !/^\d{1,12}$/.test(value)) return undefined;
  return Number(value);
}
