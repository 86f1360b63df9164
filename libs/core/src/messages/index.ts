export { ChronicleError } from './chronicle.error.js';
export {
  assignedIdOf,
  createEnvelope,
  deferEnvelope,
  DeferredEnvelope,
  isFirstSend,
  makeEnvelope,
  messageTypeOf,
  payloadOf,
  type EnvelopeOptions,
  type MadeEnvelope,
} from './create-envelope.js';
export {
  errorFields,
  rebuildError,
  type ErrorFields,
} from './error-serialization.js';
export { outcomeOf } from './error-outcome.js';
export { ErrorType } from './error-type.decorator.js';
export { DuplicateErrorTypeError } from './error-type.errors.js';
export {
  ErrorTypeRegistry,
  type ErrorClass,
  type ErrorTypeInfo,
} from './error-type.registry.js';
export { eventInstanceOf, type StoredEventShape } from './event-instance.js';
export {
  attachEnvelope,
  envelopeOf,
  type Envelope,
  type MessageMetadata,
} from './envelope.js';
export {
  checkId,
  checkMetadata,
  checkRoutedTypeName,
  checkStorableText,
  checkStreamId,
  checkTypeName,
  checkUuid,
  findUnstorableText,
  isPlainObject,
  jsonTextIsStorable,
  MAX_ID_LENGTH,
  MAX_METADATA_BYTES,
  MAX_STREAM_ID_LENGTH,
  MAX_TYPE_NAME_LENGTH,
} from './input-checks.js';
export {
  InvalidIdError,
  InvalidMetadataError,
  previewForError,
  UnstorableTextError,
} from './input.errors.js';
export {
  declaredFieldsOf,
  undeclaredFieldsOf,
  type UndeclaredField,
} from './known-fields.js';
export {
  MessageContext,
  runHandling,
  runWithMetadata,
  scopeMetadata,
  unitOfWorkContext,
  type EnvelopeSource,
  type HandlingStart,
  type UnitOfWorkContext,
} from './message-context.js';
export {
  MESSAGE_OPTIONS,
  type MessageOptions,
  type UnknownFieldsPolicy,
} from './message.options.js';
export { deriveMessageId, newMessageId } from './message-id.js';
export {
  CommandType,
  EventType,
  QueryType,
  type EventTypeOptions,
} from './message-type.decorators.js';
export {
  DuplicateMessageTypeError,
  UnknownMessageTypeError,
  UnregisteredMessageError,
  UnsupportedRevisionError,
} from './message-type.errors.js';
export {
  MessageTypeRegistry,
  type MessageClass,
  type MessageKind,
  type MessageTypeInfo,
} from './message-type.registry.js';
export {
  fromPayload,
  payloadReaderOf,
  toPayload,
  type PayloadReader,
} from './serialization.js';
export {
  checkDeclaredFields,
  checkMessage,
  validateMessage,
} from './validation.js';
export { ValidationError, type FieldViolation } from './validation.error.js';
export * from './upcasting/index.js';
