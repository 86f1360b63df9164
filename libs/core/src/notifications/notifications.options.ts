/** `ChronicleModule.forRoot({ notifications })`: how this process runs its `@HandleNotification` methods. */
export interface NotificationOptions {
  /** Run notification handlers in this process. Default true. */
  readonly enabled?: boolean;
  /** Events read per round trip. Default 100. */
  readonly batchSize?: number;
  /**
   * The first pause before reading again when no append signal came, doubled
   * up to `maxPollIntervalMs`. The signal is the fast path. Default: the
   * tracking option of the same name (100 ms).
   */
  readonly pollIntervalMs?: number;
  /** The longest pause between polls. Default: the tracking option of the same name (2 s). */
  readonly maxPollIntervalMs?: number;
  /**
   * How long shutdown waits for a handler still running (a hung one is left
   * behind, with a warning). Default 5 s.
   */
  readonly stopTimeoutMs?: number;
}

export type ResolvedNotificationOptions = Required<NotificationOptions>;

export const NOTIFICATION_OPTIONS = Symbol('chronicle:notification-options');
