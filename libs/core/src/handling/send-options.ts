import type { EnvelopeOptions } from '../messages/index.js';

/** What a sender can say about one command or query beyond its payload. */
export interface SendOptions extends Pick<EnvelopeOptions, 'id' | 'metadata'> {
  /** How long to wait for a remote handler, in ms. Default: the transport's. */
  readonly timeoutMs?: number;
}

/** Options the framework itself attaches (a message arriving off the wire). */
export interface InternalSendOptions extends SendOptions {
  readonly timestamp?: Date;
  /** The sender made the id for this send: there is no earlier outcome to look up. */
  readonly firstSend?: boolean;
  /** The app that sent it over the transport (for the message log). */
  readonly senderApp?: string;
}

const pending = new WeakMap<object, InternalSendOptions>();

/** Attaches send options to a message on its way through a bus. */
export function attachSendOptions(
  message: object,
  options: InternalSendOptions,
): void {
  pending.set(message, options);
}

/** A message sent without options: one shared, frozen object rather than one per send. */
const NO_OPTIONS: InternalSendOptions = Object.freeze({});

/** The options a sender attached, if any. */
export function sendOptionsOf(message: object): InternalSendOptions {
  return pending.get(message) ?? NO_OPTIONS;
}
