import {
  checkTypeName,
  DuplicateMessageTypeError,
  type MessageClass,
} from '../messages/index.js';

/** The stable name and revision of a schedule payload class. */
export interface ScheduleTypeInfo {
  readonly name: string;
  readonly revision: number;
  readonly target: MessageClass;
}

const byName = new Map<string, ScheduleTypeInfo>();
const byClass = new Map<MessageClass, ScheduleTypeInfo>();

/**
 * Schedule payload classes by stable name. Kept apart from the message type
 * registry because a schedule payload is neither a command nor an event: it is
 * only ever delivered to this app's own `@HandleSchedule` methods.
 */
export const ScheduleTypeRegistry = {
  forName(name: string): ScheduleTypeInfo | undefined {
    return byName.get(name);
  },
  forClass(target: MessageClass): ScheduleTypeInfo | undefined {
    return byClass.get(target);
  },
};

/**
 * Gives a schedule payload class a stable type name, e.g. `billing.PaymentTimeout`:
 * the name stored with each schedule, so renaming the class breaks nothing.
 */
export function ScheduleType(
  name: string,
  options: { revision?: number } = {},
): ClassDecorator {
  const revision = options.revision ?? 1;
  checkTypeName(name, 'schedule type name');
  if (!Number.isInteger(revision) || revision < 1) {
    throw new TypeError(
      `Revision of "${name}" must be a positive integer, got ${revision}`,
    );
  }
  return ((target: MessageClass) => {
    const existing = byName.get(name);
    if (existing && existing.target !== target) {
      throw new DuplicateMessageTypeError(
        name,
        existing.target.name,
        target.name,
      );
    }
    const info = { name, revision, target };
    byName.set(name, info);
    byClass.set(target, info);
  }) as ClassDecorator;
}
