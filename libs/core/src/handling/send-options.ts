import type { EnvelopeOptions } from '../messages/index.js';

/** What a sender can say about one command or query beyond its payload. */
export type SendOptions = Pick<EnvelopeOptions, 'id' | 'metadata'>;

const pending = new WeakMap<object, SendOptions>();

/** Attaches send options to a message on its way through a bus. */
export function attachSendOptions(message: object, options: SendOptions): void {
  pending.set(message, options);
}

/** The options a sender attached, if any (read once per handling). */
export function sendOptionsOf(message: object): SendOptions {
  return pending.get(message) ?? {};
}
