import { DuplicateScheduleHandlerError } from './scheduling.errors.js';
import type { MessageClass } from '../messages/index.js';
import type { PeriodicSpec } from './periodic.js';
import type { ScheduleContext } from './scheduled-message.js';

/** One method that schedules are delivered to. */
export interface ScheduleHandler {
  /** The schedule type it handles, or the id of its `@Periodic` schedule. */
  readonly key: string;
  /** `Class.method`, for messages. */
  readonly owner: string;
  /** The class whose method it is: its `@RequiresRole`/`@RequiresUser` apply. */
  readonly holder?: object;
  /** The payload class to rebuild; absent for a `@Periodic` method. */
  readonly payload?: MessageClass;
  invoke(payload: object | undefined, context: ScheduleContext): unknown;
}

/** A `@Periodic` method's schedule, armed at bootstrap. */
export interface PeriodicDeclaration {
  readonly id: string;
  readonly spec: PeriodicSpec;
}

/**
 * The `@HandleSchedule` and `@Periodic` methods of this process, found once at
 * bootstrap. Which keys it holds decides which schedules this instance claims.
 */
export class ScheduleHandlers {
  private readonly byKey = new Map<string, ScheduleHandler>();
  readonly periodic: PeriodicDeclaration[] = [];

  add(handler: ScheduleHandler): void {
    const existing = this.byKey.get(handler.key);
    if (existing) {
      throw new DuplicateScheduleHandlerError(
        handler.key,
        existing.owner,
        handler.owner,
      );
    }
    this.byKey.set(handler.key, handler);
  }

  get(key: string): ScheduleHandler | undefined {
    return this.byKey.get(key);
  }

  /** The schedule types and periodic ids this process can deliver. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }
}
