import { AsyncLocalStorage } from 'node:async_hooks';
import type { Envelope } from './envelope.js';
import { deriveMessageId } from './message-id.js';

/**
 * One run of one handler on one message. Messages sent during it get ids
 * derived from the message's id, the handler's name and an ordinal per type,
 * so running the handler again (a retry, a replay, a conflict re-run) sends
 * the same ids, which the receivers' idempotency records absorb.
 */
interface Handling {
  readonly envelope: Envelope;
  readonly handler: string;
  /** Made on the first send: most handlings send nothing. */
  sent: Map<string, number> | undefined;
}

const storage = new AsyncLocalStorage<Handling>();

/**
 * The message being handled right now, carried across awaits. Envelopes made
 * while it is set take their correlation from it and name it as their cause.
 */
export const MessageContext = {
  current(): Envelope | undefined {
    return storage.getStore()?.envelope;
  },

  /**
   * Runs `fn` as `handler`'s handling of `envelope`. `handler` names the code
   * that runs (`command:PlaceOrderHandler`, `consumer:billing:onOrderPlaced`):
   * stable across restarts and deploys, distinct per handler of one message.
   * Each call starts the ordinals afresh: call it once per attempt.
   */
  run<R>(envelope: Envelope, fn: () => R, handler = 'handler'): R {
    return storage.run({ envelope, handler, sent: undefined }, fn);
  },

  /**
   * The id of the next message of `type` sent by the running handler, or
   * undefined outside any handling (the sender then makes a new id).
   */
  nextDerivedId(type: string): string | undefined {
    const handling = storage.getStore();
    if (!handling) return undefined;
    handling.sent ??= new Map();
    const ordinal = handling.sent.get(type) ?? 0;
    handling.sent.set(type, ordinal + 1);
    return deriveMessageId(
      handling.envelope.id,
      handling.handler,
      type,
      ordinal,
    );
  },
};
