import { performance } from 'node:perf_hooks';
import { withTimeout } from './deadline.js';
import { HandlersBusyError, TimeoutError } from './transport.errors.js';
import type { WireMessage } from './transport.js';
import { HEADER, messageIdOf } from './wire-format.js';

/** One try of a request, waiting at most `timeoutMs` for its reply. */
export type SendTry = (
  message: WireMessage,
  timeoutMs: number,
) => Promise<WireMessage>;

/** The longest pause between two tries after busy refusals. */
const MAX_PAUSE_MS = 200;

/**
 * Sends a request until a handler takes it, within the caller's timeout. Each
 * try carries the time the caller still waits (`Chronicle-Timeout-Ms`), so a
 * receiver never starts it after the caller gave up. A try refused as busy
 * (the instance NATS picked was at its limits; nothing started) is sent again
 * after a short jittered pause, and NATS picks again, most likely another
 * instance; when the time runs out between tries, `HandlersBusyError` says
 * that it was certainly not handled.
 */
export async function requestUntilTaken(
  message: WireMessage,
  options: { readonly timeoutMs: number; readonly messageType: string },
  send: SendTry,
): Promise<WireMessage> {
  const started = performance.now();
  const left = () =>
    Math.ceil(options.timeoutMs - (performance.now() - started));
  for (let tries = 1; ; tries++) {
    const timeoutMs = left();
    // The pause after a refusal ended late (a busy event loop): no time is
    // left for another try, and every try so far was refused unstarted.
    if (tries > 1 && timeoutMs < 1) {
      throw new HandlersBusyError(
        options.messageType,
        messageIdOf(message),
        options.timeoutMs,
      );
    }
    let reply: WireMessage;
    try {
      reply = await send(withTimeout(message, timeoutMs), timeoutMs);
    } catch (error) {
      // A later try's timeout is what was left of the caller's: name the whole.
      if (error instanceof TimeoutError && tries > 1)
        throw new TimeoutError(
          options.messageType,
          options.timeoutMs,
          error.messageId,
        );
      throw error;
    }
    // The receiver's timer for the caller's deadline fired before the
    // caller's own (a busy event loop): the same outcome as the caller's.
    if (reply.headers[HEADER.refused] === 'deadline')
      throw new TimeoutError(
        options.messageType,
        options.timeoutMs,
        messageIdOf(message),
      );
    if (reply.headers[HEADER.refused] !== 'busy') return reply;
    const pause =
      Math.min(MAX_PAUSE_MS, 5 * 2 ** tries) * (0.5 + Math.random() / 2);
    if (pause >= left()) {
      throw new HandlersBusyError(
        options.messageType,
        messageIdOf(message),
        options.timeoutMs,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
