export { LocalTransport } from './local/local.transport.js';
export type { NatsTransportOptions } from './nats/nats-transport.options.js';
export { NatsTransport, natsServers } from './nats/nats.transport.js';
export { openTransport } from './open-transport.js';
export { RelayedAppendSignal } from './relayed-append-signal.js';
export {
  checkSubjectToken,
  eventsSubject,
  messageSubject,
} from './subjects.js';
export {
  MalformedMessageError,
  NoHandlerError,
  RemoteHandlerError,
  TimeoutError,
  TransportError,
} from './transport.errors.js';
export {
  Transport,
  type RequestListener,
  type TransportStatus,
  type WireMessage,
} from './transport.js';
export {
  TRANSPORT_OPTIONS,
  type ResolvedTransportOptions,
  type TransportOptions,
} from './transport.options.js';
export {
  decodeReply,
  decodeRequest,
  encodeError,
  encodeRequest,
  encodeResult,
  HEADER,
  type DecodedRequest,
} from './wire-format.js';
