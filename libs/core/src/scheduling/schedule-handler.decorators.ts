import 'reflect-metadata';
import type { MessageClass } from '../messages/index.js';
import type { PeriodicSpec } from './periodic.js';

/** Metadata keys read once, at bootstrap, by the scheduling explorer. */
export const HANDLE_SCHEDULE_METADATA = 'chronicle:handle-schedule';
export const PERIODIC_METADATA = 'chronicle:periodic';

/** `@Periodic`'s options: when it fires, and the id its schedule row is kept under. */
export type PeriodicOptions = PeriodicSpec & {
  /** The schedule's id, shared by every instance. Default `ClassName.methodName`. */
  readonly id?: string;
};

/**
 * Marks a provider method as the handler of a scheduled payload class:
 * `@HandleSchedule(PaymentTimeout) onTimeout(timeout: PaymentTimeout, schedule: ScheduleContext)`.
 */
export function HandleSchedule(payload: MessageClass): MethodDecorator {
  return (target, key) => {
    Reflect.defineMetadata(HANDLE_SCHEDULE_METADATA, payload, target, key);
  };
}

/**
 * Runs a provider method on a schedule, e.g. `@Periodic({ every: '5m' })` or
 * `@Periodic({ cron: '0 3 * * *', timeZone: 'Europe/Amsterdam' })`. However
 * many instances run, each occurrence fires in exactly one of them.
 */
export function Periodic(options: PeriodicOptions): MethodDecorator {
  return (target, key) => {
    Reflect.defineMetadata(PERIODIC_METADATA, options, target, key);
  };
}
