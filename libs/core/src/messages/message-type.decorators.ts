import 'reflect-metadata';
import { checkRoutedTypeName, checkTypeName } from './input-checks.js';
import {
  MessageTypeRegistry,
  type MessageClass,
  type MessageKind,
} from './message-type.registry.js';

/**
 * The metadata keys under which @nestjs/cqrs keeps a message class's id. Setting
 * them first makes cqrs use our stable name as its id instead of a random UUID
 * (its handler decorators only assign one when none is there). A unit test pins
 * this contract, so an upgrade that changes the keys fails loudly.
 */
const CQRS_ID_METADATA: Record<MessageKind, string> = {
  command: '__command__',
  query: '__query__',
  event: '__event__',
};

export interface EventTypeOptions {
  /** The revision of the payload's shape; bump it when the shape changes. Default 1. */
  revision?: number;
}

function messageType(kind: MessageKind, name: string, revision = 1) {
  // Commands and queries travel on NATS subjects named after their type.
  if (kind === 'event') checkTypeName(name, 'event type name');
  else checkRoutedTypeName(name, `${kind} type name`);
  if (!Number.isInteger(revision) || revision < 1) {
    throw new TypeError(
      `Revision of "${name}" must be a positive integer, got ${revision}`,
    );
  }
  return (target: MessageClass): void => {
    MessageTypeRegistry.register({ name, kind, revision, target });
    Reflect.defineMetadata(CQRS_ID_METADATA[kind], { id: name }, target);
  };
}

/** Gives a command class a stable, process-independent type name, e.g. `orders.PlaceOrder`. */
export function CommandType(name: string): ClassDecorator {
  return messageType('command', name) as ClassDecorator;
}

/** Gives a query class a stable, process-independent type name, e.g. `orders.GetOrder`. */
export function QueryType(name: string): ClassDecorator {
  return messageType('query', name) as ClassDecorator;
}

/** Gives an event class a stable type name and a payload revision, e.g. `orders.OrderPlaced`. */
export function EventType(
  name: string,
  options: EventTypeOptions = {},
): ClassDecorator {
  return messageType('event', name, options.revision) as ClassDecorator;
}
