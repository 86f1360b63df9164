import { UnknownMessageTypeError } from './message-type.errors.js';
import { MessageTypeRegistry } from './message-type.registry.js';
import { fromPayload } from './serialization.js';

/** What a stored (and upcast) event carries that its instance is made from. */
export interface StoredEventShape {
  readonly type: string;
  readonly revision: number;
  readonly payload: unknown;
  readonly position?: bigint;
}

/**
 * A stored event as an instance of its registered class: every reader
 * (aggregates, consumers) builds events here, after the upcaster has checked
 * their type and revision.
 */
export function eventInstanceOf(event: StoredEventShape): object {
  const info = MessageTypeRegistry.forName(event.type);
  if (!info) {
    throw new UnknownMessageTypeError(
      event.type,
      event.revision,
      event.position,
    );
  }
  return fromPayload(info.target, event.payload);
}
