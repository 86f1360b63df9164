import type { Clock } from './clock.js';
import { durationMs, type Duration } from './duration.js';

/** `ChronicleModule.forRoot({ scheduling: {...} })`. */
export interface SchedulingOptions {
  /** Whether this instance delivers due schedules (it can always make them). Default true. */
  readonly enabled?: boolean;
  /** The clock; a `ManualClock` in tests. Default: the system clock. */
  readonly clock?: Clock;
  /** The longest the poller sleeps without a wake-up (the safety net under LISTEN). Default '1s'. */
  readonly pollInterval?: Duration;
  /** Due schedules claimed per query. Default 100. */
  readonly batchSize?: number;
  /** Deliveries run at once by this instance. Default 8. */
  readonly concurrency?: number;
  /**
   * How long a claim lasts: a schedule whose instance died (or is still busy)
   * after this is claimed and delivered again. Default '1m'.
   */
  readonly claimTimeout?: Duration;
  /** Tries of a failing delivery before it is recorded as dead. Default 5. */
  readonly maxAttempts?: number;
  /** The pause after the first failure; it doubles after each next one. Default '1s'. */
  readonly retryDelay?: Duration;
  /** The longest pause between tries. Default '5m'. */
  readonly maxRetryDelay?: Duration;
  /** How long shutdown waits for deliveries under way. Default '10s'. */
  readonly shutdownTimeout?: Duration;
}

/** The options with every default filled in, durations in ms. */
export interface ResolvedSchedulingOptions {
  readonly enabled: boolean;
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly claimTimeoutMs: number;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly shutdownTimeoutMs: number;
}

export function resolveSchedulingOptions(
  options: SchedulingOptions = {},
): ResolvedSchedulingOptions {
  return {
    enabled: options.enabled ?? true,
    pollIntervalMs: durationMs(options.pollInterval ?? '1s', 'pollInterval'),
    batchSize: options.batchSize ?? 100,
    concurrency: options.concurrency ?? 8,
    claimTimeoutMs: durationMs(options.claimTimeout ?? '1m', 'claimTimeout'),
    maxAttempts: options.maxAttempts ?? 5,
    retryDelayMs: durationMs(options.retryDelay ?? '1s', 'retryDelay'),
    maxRetryDelayMs: durationMs(options.maxRetryDelay ?? '5m', 'maxRetryDelay'),
    shutdownTimeoutMs: durationMs(
      options.shutdownTimeout ?? '10s',
      'shutdownTimeout',
    ),
  };
}

/** Injects the resolved scheduling options. */
export const SCHEDULING_OPTIONS = Symbol('chronicle:scheduling-options');
