import type { MessageClass } from '../messages/index.js';

// The decorator only stores metadata; NotificationExplorer reads it once at bootstrap.

const NOTIFICATION_HANDLERS = Symbol('chronicle:notification-handlers');

export interface NotificationHandlerMetadata {
  readonly method: string | symbol;
  readonly events: readonly MessageClass[];
}

/**
 * Handles these event classes live, in every running instance of the app:
 * each instance calls the method once for each event committed after it
 * started, in log order, with the event and its stored envelope. Nothing is
 * stored: no position, no segments, no replay. For cache invalidation,
 * pushing to websockets, in-memory read models. Any provider's methods may
 * carry it (no class decorator is needed).
 */
export function HandleNotification(
  ...events: readonly MessageClass[]
): MethodDecorator {
  return (target, method) => {
    const owner = target.constructor;
    const existing: NotificationHandlerMetadata[] =
      Reflect.getMetadata(NOTIFICATION_HANDLERS, owner) ?? [];
    Reflect.defineMetadata(
      NOTIFICATION_HANDLERS,
      [...existing, { method, events }],
      owner,
    );
  };
}

export function notificationHandlersOf(
  target: object,
): readonly NotificationHandlerMetadata[] {
  return Reflect.getMetadata(NOTIFICATION_HANDLERS, target) ?? [];
}
