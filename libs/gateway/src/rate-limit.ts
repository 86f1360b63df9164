import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Requests per client in fixed windows of `ttlMs`: the gateway's own,
 * because @nestjs/throttler (CommonJS requiring the ESM-only @nestjs/common
 * 12) cannot be loaded by Jest's ESM runtime that this project's and its
 * users' tests run in. Clients are told apart by their address; behind a
 * proxy, set Express's `trust proxy` so that is the client's. In memory,
 * per process: each instance of the app limits on its own.
 */
export class RateLimit {
  private readonly windows = new Map<
    string,
    { start: number; count: number }
  >();
  private lastSweep = 0;

  constructor(
    private readonly limit: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a request of `client`; throws a 429 when it is over the limit. */
  take(client: string): void {
    const now = this.now();
    this.sweep(now);
    const window = this.windows.get(client);
    if (!window || now - window.start >= this.ttlMs) {
      this.windows.set(client, { start: now, count: 1 });
      return;
    }
    window.count++;
    if (window.count > this.limit) {
      const seconds = Math.ceil((window.start + this.ttlMs - now) / 1000);
      throw new TooManyRequests(Math.max(1, seconds));
    }
  }

  /** Forgets windows that ended, at most once per window length. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.ttlMs) return;
    this.lastSweep = now;
    for (const [client, window] of this.windows) {
      if (now - window.start >= this.ttlMs) this.windows.delete(client);
    }
  }
}

/** A 429, with the seconds until the client's window ends (for Retry-After). */
export class TooManyRequests extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many requests', HttpStatus.TOO_MANY_REQUESTS);
  }
}
