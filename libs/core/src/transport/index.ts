export { LocalTransport } from './local/local.transport.js';
export type { NatsTransportOptions } from './nats/nats-transport.options.js';
export { natsServers } from './nats/nats-connection-options.js';
export { NatsTransport } from './nats/nats.transport.js';
export {
  authorizationBlock,
  INBOX_SUBJECTS,
  natsPermissions,
  passwordVariableOf,
  type AppRoutes,
  type NatsPermissions,
  type RoutedType,
} from './nats/nats-permissions.js';
export { IN_PROCESS_ONLY, openTransport } from './open-transport.js';
export {
  generateSigningKey,
  MessageSignatureError,
  SIGNATURE_HEADER,
  SigningConfigurationError,
  SigningTransport,
  type SignatureRefusal,
  type SigningOptions,
  type SigningScheme,
} from './signing/index.js';
export { checkRequestFits, fittingReply, wireSizeOf } from './payload-size.js';
export { DEFAULT_SERVE_LIMITS, ServeQueue } from './serve-queue.js';
export { RelayedAppendSignal } from './relayed-append-signal.js';
export {
  checkSubjectToken,
  errorSubject,
  eventsSubject,
  messageSubject,
  presenceSubject,
  subjectMatches,
} from './subjects.js';
export {
  DeadlineExceededError,
  HandlersBusyError,
  InDoubtError,
  MalformedMessageError,
  NatsConfigurationError,
  NoHandlerError,
  NotPermittedError,
  RemoteHandlerError,
  ReplyTooLargeError,
  RequestTooLargeError,
  TimeoutError,
  type RemoteErrorDetails,
  TransportError,
  transportErrorKind,
  type TransportErrorKind,
} from './transport.errors.js';
export {
  Transport,
  type MessageListener,
  type RequestListener,
  type ServedLoad,
  type ServeLimits,
  type TransportStatus,
  type WireMessage,
} from './transport.js';
export {
  serveLimitsOf,
  TRANSPORT_OPTIONS,
  type ResolvedTransportOptions,
  type TransportOptions,
} from './transport.options.js';
export {
  classifyError,
  decodeReply,
  decodeRequest,
  encodeError,
  type ErrorReplyContext,
  type FailureKind,
  encodeRequest,
  encodeResult,
  HEADER,
  messageIdOf,
  type DecodedRequest,
} from './wire-format.js';
