import { attachEnvelope, eventInstanceOf } from '../messages/index.js';
import type { StoredEvent } from '../store/index.js';

/**
 * A stored event as an instance of its class, with its envelope attached
 * (`envelopeOf(event)`). Its type and revision were checked by the upcaster
 * the segment worker runs every stored event through.
 */
export function deserializeEvent(event: StoredEvent): {
  payload: object;
  envelope: StoredEvent<object>;
} {
  const payload = eventInstanceOf(event);
  const envelope: StoredEvent<object> = { ...event, payload };
  attachEnvelope(payload, envelope);
  return { payload, envelope };
}
