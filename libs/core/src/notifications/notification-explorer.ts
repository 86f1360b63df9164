import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { EnabledModules } from '../handling/index.js';
import {
  MessageContext,
  MessageTypeRegistry,
  UnregisteredMessageError,
} from '../messages/index.js';
import type { StoredEvent } from '../store/index.js';
import { notificationHandlersOf } from './notification.decorators.js';
import { NotificationDefinitionError } from './notifications.errors.js';

/** One `@HandleNotification` method, bound to its provider. */
export interface NotificationHandlerFn {
  (event: object, envelope: StoredEvent<object>): Promise<unknown>;
  /** `notification:<Class>.<method>`: in error messages, and what its sends derive ids from. */
  readonly handlerName: string;
}

type Method = (...args: unknown[]) => unknown;

/**
 * Finds the `@HandleNotification` methods of every provider once, at
 * bootstrap, by event type name.
 */
@Injectable()
export class NotificationExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly enabledModules: EnabledModules,
  ) {
    enabledModules.countAsWork(
      'notifications',
      (type) => notificationHandlersOf(type).length > 0,
    );
  }

  explore(): Map<string, NotificationHandlerFn[]> {
    const byType = new Map<string, NotificationHandlerFn[]>();
    // One instance may sit behind two tokens (useExisting): its methods run once.
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const type = wrapper.instance?.constructor ?? wrapper.metatype;
      if (typeof type !== 'function') continue;
      const declared = notificationHandlersOf(type);
      if (declared.length === 0) continue;
      if (!this.enabledModules.isEnabled(wrapper)) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        throw new NotificationDefinitionError(
          `${type.name} has @HandleNotification methods but is request-scoped; notifications run outside requests: make it a singleton.`,
        );
      }
      const instance = wrapper.instance as Record<string | symbol, Method>;
      if (!instance || seen.has(instance)) continue;
      seen.add(instance);
      for (const { method, events } of declared) {
        if (events.length === 0) {
          throw new NotificationDefinitionError(
            `${type.name}.${String(method)} is decorated with @HandleNotification() but names no event class: use @HandleNotification(SomeEvent).`,
          );
        }
        const handlerName = `notification:${type.name}.${String(method)}`;
        for (const event of events) {
          const info = MessageTypeRegistry.forClass(event);
          if (!info) throw new UnregisteredMessageError(event.name, 'Event');
          // In the event's message context: what the handler sends is caused
          // by the event, with ids derived from it and the handler's name.
          const run = (payload: object, envelope: StoredEvent<object>) =>
            MessageContext.run(
              envelope,
              async () => instance[method].call(instance, payload, envelope),
              handlerName,
            );
          const list = byType.get(info.name) ?? [];
          list.push(Object.assign(run, { handlerName }));
          byType.set(info.name, list);
        }
      }
    }
    return byType;
  }
}
