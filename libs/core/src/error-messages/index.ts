export { ErrorHandlers } from './error-handlers.js';
export { ErrorMessages, type ErrorSource } from './error-messages.js';
export {
  ErrorHandlerDefinitionError,
  UnknownErrorSourceError,
} from './error-messages.errors.js';
export { ErrorMessagesModule } from './error-messages.module.js';
export { HandleError, type ErrorSourceType } from './handle-error.decorator.js';
export {
  ERROR_MESSAGE_TYPE,
  HandlingFailed,
  handlingFailedFrom,
  type HandlingFailedFields,
} from './handling-failed.js';
