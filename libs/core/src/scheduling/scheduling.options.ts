import type { Clock } from './clock.js';
import { durationMs, type Duration } from './duration.js';
import { InvalidScheduleError } from './scheduling.errors.js';

/** `ChronicleModule.forRoot({ scheduling: {...} })`. */
export interface SchedulingOptions {
  /** Whether this instance delivers due schedules (it can always make them). Default true. */
  readonly enabled?: boolean;
  /** The clock; a `ManualClock` in tests. Default: the system clock. */
  readonly clock?: Clock;
  /** The longest the poller sleeps without a wake-up (the safety net under LISTEN). Default '1s'. */
  readonly pollInterval?: Duration;
  /**
   * The most due schedules claimed per query. An instance never claims more
   * than its free `concurrency` slots: what it claims, it starts. Default 100.
   */
  readonly batchSize?: number;
  /** Deliveries run at once by this instance. Default 8. */
  readonly concurrency?: number;
  /**
   * How long a claim lasts without renewal. While a delivery runs its
   * instance renews the claim (every third of this), so deliveries may take
   * longer; a schedule whose instance died is delivered again once this has
   * passed since its last renewal. At least 100 ms. Default '1m'.
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

/** The shortest claim lease: its heartbeat runs three times per lease. */
const MIN_CLAIM_TIMEOUT_MS = 100;

function count(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidScheduleError(
      `scheduling.${name} must be a whole number of at least 1, got ${String(value)}.`,
    );
  }
  return value;
}

function claimTimeoutOf(options: SchedulingOptions): number {
  const value = durationMs(options.claimTimeout ?? '1m', 'claimTimeout');
  if (value < MIN_CLAIM_TIMEOUT_MS) {
    throw new InvalidScheduleError(
      `scheduling.claimTimeout must be at least ${MIN_CLAIM_TIMEOUT_MS} ms, got ${value} ms: ` +
        "give the time after which a dead instance's schedules are taken over, e.g. '30s'.",
    );
  }
  return value;
}

export function resolveSchedulingOptions(
  options: SchedulingOptions = {},
): ResolvedSchedulingOptions {
  return {
    enabled: options.enabled ?? true,
    pollIntervalMs: durationMs(options.pollInterval ?? '1s', 'pollInterval'),
    batchSize: count(options.batchSize ?? 100, 'batchSize'),
    concurrency: count(options.concurrency ?? 8, 'concurrency'),
    claimTimeoutMs: claimTimeoutOf(options),
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
