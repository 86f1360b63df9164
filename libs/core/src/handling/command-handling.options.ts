/** How commands are handled in this process. */
export interface CommandHandlingOptions {
  /**
   * How many times a handler that lost an optimistic-concurrency race is run
   * again before the `ConcurrencyError` reaches the caller. Default 3.
   */
  readonly retries?: number;
  /** The base of the exponential, jittered pause between those runs, in ms. Default 10. */
  readonly retryDelayMs?: number;
}

export const COMMAND_HANDLING_OPTIONS = Symbol(
  'chronicle:command-handling-options',
);
