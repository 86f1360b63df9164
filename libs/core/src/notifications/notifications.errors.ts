import { ChronicleError } from '../messages/index.js';

/** A `@HandleNotification` method is declared in a way that cannot run. */
export class NotificationDefinitionError extends ChronicleError {
  readonly code = 'NOTIFICATION_DEFINITION';
}
