import {
  attachEnvelope,
  fromPayload,
  MessageTypeRegistry,
  UnknownMessageTypeError,
  UnsupportedRevisionError,
} from '../messages/index.js';
import type { StoredEvent } from '../store/index.js';

/**
 * A stored event as an instance of its class, with its envelope attached
 * (`envelopeOf(event)`). The one place where tracking turns rows into
 * objects: upcasting will be routed through here.
 */
export function deserializeEvent(event: StoredEvent): {
  payload: object;
  envelope: StoredEvent<object>;
} {
  const info = MessageTypeRegistry.forName(event.type);
  if (!info) {
    throw new UnknownMessageTypeError(
      event.type,
      event.revision,
      event.position,
    );
  }
  if (event.revision > info.revision) {
    throw new UnsupportedRevisionError(
      event.type,
      event.revision,
      info.revision,
      event.position,
    );
  }
  const payload = fromPayload(info.target, event.payload);
  const envelope: StoredEvent<object> = { ...event, payload };
  attachEnvelope(payload, envelope);
  return { payload, envelope };
}
