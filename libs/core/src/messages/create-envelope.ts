import { activeTraceMetadata } from '../telemetry/index.js';
import type { Envelope, MessageMetadata } from './envelope.js';
import { checkId, checkMetadata } from './input-checks.js';
import {
  inMessageScope,
  MessageContext,
  scopeMetadata,
} from './message-context.js';
import { messageIdAt } from './message-id.js';
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
// same instance again (a retry after a timeout) is the same message. Kept on
// the instance as a private field, stamped on by a constructor that returns
// the instance it is given: invisible to reflection, never copied by a
// spread, Object.assign or JSON, and about a tenth of the cost of a WeakMap
// insert or a defineProperty, which showed in every local send. A frozen
// (non-extensible) instance keeps it in a WeakMap.
class Stamp {
  constructor(target: object) {
    // The point: the subclass's `this`, and so its private field, is `target`.
    return target;
  }
}

class AssignedId extends Stamp {
  readonly #id: string;

  private constructor(target: object, id: string) {
    super(target);
    this.#id = id;
  }

  static assign(message: object, id: string): void {
    new AssignedId(message, id);
  }

  static of(message: object): string | undefined {
    return #id in message ? (message as AssignedId).#id : undefined;
  }
}

const assignedToFrozen = new WeakMap<object, string>();
// Envelopes whose id was made just now: no one can have sent it before.
const firstSends = new WeakSet<Envelope>();

function assignId(message: object, id: string): void {
  if (Object.isExtensible(message)) AssignedId.assign(message, id);
  else assignedToFrozen.set(message, id);
}

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
  return AssignedId.of(message) ?? assignedToFrozen.get(message);
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
  const made = makeEnvelope(message, kind, options);
  if (made.firstSend) firstSends.add(made.envelope);
  return made.envelope;
}

/** A new envelope, and whether its id was made for it (see `isFirstSend`). */
export interface MadeEnvelope<T> {
  readonly envelope: Envelope<T>;
  readonly firstSend: boolean;
}

/**
 * `createEnvelope` for the framework's own hot paths, which read at once
 * whether the id is new instead of asking `isFirstSend` later (a WeakSet
 * insert per message, for a question asked once).
 */
export function makeEnvelope<T extends object>(
  message: T,
  kind: MessageKind,
  options: EnvelopeOptions = {},
): MadeEnvelope<T> {
  const { name, revision } = messageTypeOf(message, kind);
  // What a caller gives is checked here, on every way in (a send in process,
  // over the wire, a schedule): an unusable id or metadata fails now, typed.
  if (options.id !== undefined) checkId(options.id, 'message id');
  if (options.metadata !== undefined) checkMetadata(options.metadata);
  const assigned = kind === 'event' ? undefined : assignedIdOf(message);
  const known =
    kind === 'event'
      ? options.id
      : (options.id ?? assigned ?? MessageContext.nextDerivedId(name));
  // One clock read for a new id and the timestamp: it showed in every send.
  const nowMs =
    known === undefined || options.timestamp === undefined ? Date.now() : 0;
  const id = known ?? messageIdAt(nowMs);
  if (kind !== 'event' && assigned === undefined) assignId(message, id);
  const parent = MessageContext.current();
  const scoped = scopeMetadata();
  let metadata: MessageMetadata =
    parent === undefined &&
    options.metadata === undefined &&
    scoped === undefined
      ? // A send from outside any handling with no metadata of its own: the
        // usual case of a command or query sent by app code, and the cheapest.
        { correlationId: id }
      : metadataOf(id, parent, options.metadata, scoped);
  // The span active now (a send, a handling) is the one a receiver or a
  // later reader of a stored event continues: W3C trace context in metadata.
  // Given metadata (a message off the wire, a schedule) keeps its own.
  const traced = options.metadata?.traceparent
    ? undefined
    : activeTraceMetadata();
  if (traced !== undefined) metadata = { ...metadata, ...traced };
  const envelope: Envelope<T> = {
    id,
    type: name,
    revision,
    payload: message,
    metadata,
    timestamp: options.timestamp ?? new Date(nowMs),
  };
  return { envelope, firstSend: known === undefined };
}

/**
 * A command or query's envelope, made when first read unless something at
 * send time decides its id or metadata (an id given, one derived from the
 * running handling, metadata given): then it is made at once, by
 * `makeEnvelope`. A command sent from
 * outside any handling whose id nothing reads (it records nothing, sends
 * nothing, and no one asks) never makes one, which showed in every local
 * send. Its time is read at send time; its id, once made, is the instance's,
 * as `makeEnvelope` would have kept it.
 */
export function deferEnvelope<T extends object>(
  message: T,
  kind: 'command' | 'query',
  options: EnvelopeOptions = {},
): DeferredEnvelope<T> {
  // An id kept from an earlier send is found when the envelope is made.
  if (
    options.id !== undefined ||
    options.metadata !== undefined ||
    inMessageScope()
  ) {
    const made = makeEnvelope(message, kind, options);
    return new DeferredEnvelope(
      made.envelope.type,
      made.envelope.revision,
      message,
      undefined,
      0,
      made,
    );
  }
  const { name, revision } = messageTypeOf(message, kind);
  return new DeferredEnvelope(
    name,
    revision,
    message,
    options.timestamp,
    Date.now(),
    undefined,
  );
}

/** What `deferEnvelope` gives: the type at once, the envelope when first read. */
export class DeferredEnvelope<T extends object> implements MadeEnvelope<T> {
  #made: MadeEnvelope<T> | undefined;

  constructor(
    readonly type: string,
    private readonly revision: number,
    private readonly message: T,
    /** The timestamp the sender gave, if any. */
    private readonly timestamp: Date | undefined,
    /** When it was sent (a new id's time, and the timestamp unless given). */
    private readonly sentMs: number,
    made: MadeEnvelope<T> | undefined,
  ) {
    this.#made = made;
  }

  get envelope(): Envelope<T> {
    return (this.#made ??= this.make()).envelope;
  }

  get firstSend(): boolean {
    return (this.#made ??= this.make()).firstSend;
  }

  /** A root message's envelope (no handling ran where it was sent, no metadata given). */
  private make(): MadeEnvelope<T> {
    const message = this.message;
    // An earlier send of the instance, or another one meanwhile, made its id: the same message.
    const assigned = assignedIdOf(message);
    const id = assigned ?? messageIdAt(this.sentMs);
    if (assigned === undefined) assignId(message, id);
    const envelope: Envelope<T> = {
      id,
      type: this.type,
      revision: this.revision,
      payload: message,
      metadata: { correlationId: id },
      timestamp: this.timestamp ?? new Date(this.sentMs),
    };
    return { envelope, firstSend: assigned === undefined };
  }
}

/**
 * The metadata of a new message: the handled message's user metadata (not its
 * correlation and causation), then the scope's (`runWithMetadata`: who runs
 * the code), then the sender's, then the correlation id
 * (the sender's, else the handled message's, else the message's own id) and,
 * inside a handling, the handled message as cause.
 */
function metadataOf(
  id: string,
  parent: Envelope | undefined,
  given: Readonly<Record<string, unknown>> | undefined,
  scoped: Readonly<Record<string, unknown>> | undefined,
): MessageMetadata {
  return {
    ...(parent === undefined ? undefined : userMetadataOf(parent.metadata)),
    ...scoped,
    ...given,
    correlationId:
      (given?.correlationId as string | undefined) ??
      parent?.metadata.correlationId ??
      id,
    ...(parent === undefined ? undefined : { causationId: parent.id }),
  };
}

/** Metadata without Chronicle's own keys (copied, never `delete`d: that slows every later read of the object). */
function userMetadataOf(
  metadata: MessageMetadata,
): Readonly<Record<string, unknown>> {
  const {
    correlationId: _correlation,
    causationId: _causation,
    ...user
  } = metadata;
  return user;
}

/** The JSON form of an envelope's payload, as stored and sent. */
export function payloadOf(envelope: Envelope<object>): Record<string, unknown> {
  return toPayload(envelope.payload);
}
