import { ChronicleError } from '../messages/index.js';

/** `@HandleError(SomeClass)` names a class that is no registered message or schedule type. */
export class UnknownErrorSourceError extends ChronicleError {
  readonly code = 'UNKNOWN_ERROR_SOURCE';
  constructor(owner: string, className: string) {
    super(
      `${owner}: @HandleError(${className}) names a class without a stable type name. ` +
        'Decorate it with @CommandType, @QueryType, @EventType or @ScheduleType, or pass the type name as a string.',
    );
  }
}

/** An error handler on a provider that cannot be a singleton. */
export class ErrorHandlerDefinitionError extends ChronicleError {
  readonly code = 'ERROR_HANDLER_DEFINITION';
}
