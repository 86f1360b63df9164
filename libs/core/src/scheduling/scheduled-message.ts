import type { MessageMetadata } from '../messages/index.js';
import type { StoredPeriodic } from './periodic.js';

/**
 * How a schedule is delivered: through the command bus, to a `@HandleSchedule`
 * method, or to a `@Periodic` method; `send` is a command sent with
 * `sendAndForget`, due at once, taken only by an instance that handles it.
 */
export type ScheduleKind = 'command' | 'schedule' | 'method' | 'send';

/** A schedule as `scheduler.get(id)` returns it. */
export interface ScheduledMessage {
  readonly id: string;
  readonly kind: ScheduleKind;
  /** The message's stable type name (the periodic id for a `@Periodic` method). */
  readonly type: string;
  readonly revision: number;
  /** The message's JSON form, as stored. */
  readonly payload: Record<string, unknown> | null;
  readonly metadata: MessageMetadata;
  /** When it is next tried (later than `occurrenceAt` while a failure is retried). */
  readonly dueAt: Date;
  /** When this occurrence was due. */
  readonly occurrenceAt: Date;
  /** For a periodic schedule, how often it fires. */
  readonly periodic?: StoredPeriodic;
  /** `dead` once every try failed: kept, with `lastError`, until scheduled again or cancelled. */
  readonly status: 'scheduled' | 'dead';
  /** Tries started for this occurrence. */
  readonly attempts: number;
  readonly lastError?: string;
}

/** What a `@HandleSchedule` or `@Periodic` method is told about the delivery. */
export interface ScheduleContext {
  readonly scheduleId: string;
  /** The id of this occurrence's message: the same on every retry of it. */
  readonly deliveryId: string;
  /** When this occurrence was due. */
  readonly dueAt: Date;
  /** 1 on the first try, 2 on the first retry... */
  readonly attempt: number;
}
