import { DuplicateMessageTypeError } from './message-type.errors.js';

export type MessageKind = 'command' | 'query' | 'event';

/** A class whose instances are messages. */
export type MessageClass<T extends object = object> = abstract new (
  ...args: never[]
) => T;

export interface MessageTypeInfo {
  readonly name: string;
  readonly kind: MessageKind;
  readonly revision: number;
  readonly target: MessageClass;
}

const byName = new Map<string, MessageTypeInfo>();
const byClass = new Map<MessageClass, MessageTypeInfo>();

/**
 * The process-wide map between stable type names and message classes. It is
 * filled by the `@CommandType`, `@QueryType` and `@EventType` decorators when
 * the classes are defined, so it never depends on class names or load order.
 */
export const MessageTypeRegistry = {
  register(info: MessageTypeInfo): void {
    const existing = byName.get(info.name);
    if (existing && existing.target !== info.target) {
      throw new DuplicateMessageTypeError(
        info.name,
        existing.target.name,
        info.target.name,
      );
    }
    byName.set(info.name, info);
    byClass.set(info.target, info);
  },

  forName(name: string): MessageTypeInfo | undefined {
    return byName.get(name);
  },

  /** The info of a class, or of the nearest decorated class it extends. */
  forClass(target: MessageClass): MessageTypeInfo | undefined {
    return byClass.get(target);
  },

  /** Every registered type. */
  all(): MessageTypeInfo[] {
    return [...byName.values()];
  },

  forInstance(message: object): MessageTypeInfo | undefined {
    return byClass.get(message.constructor as MessageClass);
  },
};
