/**
 * What travels with every message: correlation and causation are Chronicle's,
 * any other key is the user's (who did it, a tenant, a trace parent...).
 */
export type MessageMetadata = {
  /** The id of the first message of the conversation this one belongs to. */
  readonly correlationId: string;
  /** The id of the message whose handling produced this one; absent for a root message. */
  readonly causationId?: string;
} & Readonly<Record<string, unknown>>;

/** A message with its identity and context: what is stored and sent. */
export interface Envelope<T = unknown> {
  /** UUID v7 of this message. */
  readonly id: string;
  /** The stable type name, e.g. `orders.OrderPlaced`. */
  readonly type: string;
  /** The revision of the payload's shape. */
  readonly revision: number;
  readonly payload: T;
  readonly metadata: MessageMetadata;
  readonly timestamp: Date;
}

const envelopes = new WeakMap<object, Envelope>();

/** Remembers the envelope a message instance travelled in. */
export function attachEnvelope<T extends object>(
  message: T,
  envelope: Envelope,
): T {
  envelopes.set(message, envelope);
  return message;
}

/**
 * The envelope a message instance arrived in: in an `@EventsHandler`, `envelopeOf(event)`
 * gives the stored event's id, metadata and, for events, its stream and position.
 */
export function envelopeOf<E extends Envelope = Envelope>(
  message: object,
): E | undefined {
  return envelopes.get(message) as E | undefined;
}
