import type { MessageClass } from '../messages/index.js';
import type { ConsumerOptions } from './consumer.options.js';

// Decorators only store metadata; ConsumerExplorer reads it once at bootstrap.

const CONSUMER = Symbol('chronicle:consumer');
const EVENT_HANDLERS = Symbol('chronicle:consumer-event-handlers');
const RESET_HOOKS = Symbol('chronicle:consumer-reset-hooks');

export interface ConsumerMetadata {
  readonly name: string;
  readonly options: ConsumerOptions;
}

export interface EventHandlerMetadata {
  readonly method: string | symbol;
  readonly events: readonly MessageClass[];
}

/**
 * Makes a provider a durable consumer of the event log, tracked under `name`
 * (its positions are stored under that name: keep it stable). Its
 * `@HandleEvent` methods receive the events, in order per stream.
 */
export function Consumer(
  name: string,
  options: ConsumerOptions = {},
): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(CONSUMER, { name, options }, target);
  };
}

/**
 * Handles these event classes: called with the event (an instance of its
 * class), its stored envelope (position, stream, version, metadata), and a
 * `ConsumerContext` giving the transaction its position commits in.
 */
export function HandleEvent(
  ...events: readonly MessageClass[]
): MethodDecorator {
  return (target, method) => {
    const owner = target.constructor;
    const existing: EventHandlerMetadata[] =
      Reflect.getMetadata(EVENT_HANDLERS, owner) ?? [];
    Reflect.defineMetadata(
      EVENT_HANDLERS,
      [...existing, { method, events }],
      owner,
    );
  };
}

/**
 * Runs before a consumer replays from an earlier position: clear the
 * projection here. It gets a `ConsumerContext` whose transaction also rewinds
 * the positions, so both commit together.
 */
export function OnReset(): MethodDecorator {
  return (target, method) => {
    const owner = target.constructor;
    const existing: (string | symbol)[] =
      Reflect.getMetadata(RESET_HOOKS, owner) ?? [];
    Reflect.defineMetadata(RESET_HOOKS, [...existing, method], owner);
  };
}

export function consumerMetadataOf(
  target: object,
): ConsumerMetadata | undefined {
  return Reflect.getMetadata(CONSUMER, target);
}

export function eventHandlersOf(
  target: object,
): readonly EventHandlerMetadata[] {
  return Reflect.getMetadata(EVENT_HANDLERS, target) ?? [];
}

export function resetHooksOf(target: object): readonly (string | symbol)[] {
  return Reflect.getMetadata(RESET_HOOKS, target) ?? [];
}
