import type { Envelope, MessageMetadata } from './envelope.js';
import { checkId, checkMetadata } from './input-checks.js';
import { MessageContext } from './message-context.js';
import { newMessageId } from './message-id.js';
import { UnregisteredMessageError } from './message-type.errors.js';
import {
  MessageTypeRegistry,
  type MessageKind,
} from './message-type.registry.js';
import { toPayload } from './serialization.js';

export interface EnvelopeOptions {
  /**
   * The message id; give one to make a command idempotent. Default: the id
   * this instance was first sent with; else, inside a handler, an id derived
   * from the message being handled; else a new UUID v7.
   */
  id?: string;
  /** Extra metadata; `correlationId` here overrides the inherited one. */
  metadata?: Readonly<Record<string, unknown>>;
  timestamp?: Date;
}

const KIND_NAMES: Record<MessageKind, string> = {
  command: 'Command',
  query: 'Query',
  event: 'Event',
};

/**
 * The stable type name and revision of a message instance. Events are stored,
 * so they must be decorated; a plain @nestjs/cqrs command or query handled in
 * this process may go by its class name.
 */
export function messageTypeOf(
  message: object,
  kind: MessageKind,
): { name: string; revision: number } {
  const info = MessageTypeRegistry.forInstance(message);
  if (info) return info;
  if (kind !== 'event' && message.constructor !== Object) {
    return { name: message.constructor.name, revision: 1 };
  }
  throw new UnregisteredMessageError(
    message.constructor.name,
    KIND_NAMES[kind],
  );
}

// The id each command and query instance was first sent with: sending the
// same instance again (a retry after a timeout) is the same message.
const assignedIds = new WeakMap<object, string>();
// Envelopes whose id was made just now: no one can have sent it before.
const firstSends = new WeakSet<Envelope>();

/**
 * Whether the envelope's id was new when it was made (neither given, nor kept
 * from an earlier send, nor derived): a receiver need not look for an
 * earlier outcome of it.
 */
export function isFirstSend(envelope: Envelope): boolean {
  return firstSends.has(envelope);
}

/** The id of a command or query instance once it has been sent, if it has. */
export function assignedIdOf(message: object): string | undefined {
  return assignedIds.get(message);
}

/**
 * Wraps a message in an envelope. Inside the handling of another message, the
 * new one inherits its correlation id and user metadata and names it as cause,
 * and a command or query gets an id derived from it (see `MessageContext`).
 */
export function createEnvelope<T extends object>(
  message: T,
  kind: MessageKind,
  options: EnvelopeOptions = {},
): Envelope<T> {
  const { name, revision } = messageTypeOf(message, kind);
  // What a caller gives is checked here, on every way in (a send in process,
  // over the wire, a schedule): an unusable id or metadata fails now, typed.
  if (options.id !== undefined) checkId(options.id, 'message id');
  if (options.metadata !== undefined) checkMetadata(options.metadata);
  const known =
    kind === 'event'
      ? options.id
      : (options.id ??
        assignedIds.get(message) ??
        MessageContext.nextDerivedId(name));
  const id = known ?? newMessageId();
  if (kind !== 'event' && !assignedIds.has(message))
    assignedIds.set(message, id);
  const parent = MessageContext.current();
  const inherited: Record<string, unknown> = { ...parent?.metadata };
  delete inherited.correlationId;
  delete inherited.causationId;
  const metadata: MessageMetadata = {
    ...inherited,
    ...options.metadata,
    correlationId:
      (options.metadata?.correlationId as string | undefined) ??
      parent?.metadata.correlationId ??
      id,
    ...(parent ? { causationId: parent.id } : {}),
  };
  const envelope: Envelope<T> = {
    id,
    type: name,
    revision,
    payload: message,
    metadata,
    timestamp: options.timestamp ?? new Date(),
  };
  if (known === undefined) firstSends.add(envelope);
  return envelope;
}

/** The JSON form of an envelope's payload, as stored and sent. */
export function payloadOf(envelope: Envelope<object>): Record<string, unknown> {
  return toPayload(envelope.payload);
}
