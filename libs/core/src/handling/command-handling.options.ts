/** How commands are handled in this process. */
export interface CommandHandlingOptions {
  /**
   * How many times a handler that lost an optimistic-concurrency race is run
   * again before the `ConcurrencyError` reaches the caller. Default 3.
   */
  readonly retries?: number;
  /** The base of the exponential, jittered pause between those runs, in ms. Default 10. */
  readonly retryDelayMs?: number;
  /**
   * Commands of this process on one aggregate take turns: the first load of
   * an aggregate in a command takes this process's lock on its stream, held
   * until the command commits or fails, so they do not race each other to the
   * store. This is how long a command waits for that lock before going on
   * without it (the store's expected-version check still decides). `0` turns
   * the queueing off. Default 10 000.
   */
  readonly aggregateLockWaitMs?: number;
  /**
   * Record every command sent with an id (all that cross the wire do) with its
   * result, in the transaction of its events, so that sending it again returns
   * the first result and changes nothing: an exactly-once effect under retries.
   * `false` saves a lookup and a write per such command: a re-sent command runs
   * again. Default true.
   */
  readonly deduplicate?: boolean;
  /**
   * How long this app's command records are kept (`'7d'`, or ms). A record
   * only matters while its command may still be re-sent: a command re-sent
   * after its record is gone runs again. Older ones are deleted by a periodic
   * schedule of this app (once across its instances; other apps on the same
   * store keep their own records and retention). `false` keeps them for ever.
   * Default '7d'.
   */
  readonly retention?: string | number | false;
}

export const COMMAND_HANDLING_OPTIONS = Symbol(
  'chronicle:command-handling-options',
);
