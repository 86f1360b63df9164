/**
 * Items that go to the database many at a time, without a timer: with no
 * statement under way an item is sent at once, alone; while one is under way
 * the next items queue, and when it returns they all go as the next statement
 * (at most `max` per statement). An idle app waits for nothing; a busy one
 * pays one round trip per batch instead of one per item.
 *
 * `send` gets each batch and must not throw: what a failed statement means
 * (reject the callers, log and retry later) is its caller's to say.
 */
export class StatementBatches<T> {
  private queued: T[] = [];
  private sending: readonly T[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly send: (batch: readonly T[]) => Promise<void>,
    private readonly max: number,
  ) {}

  add(item: T): void {
    this.queued.push(item);
    this.flushing ??= this.flush();
  }

  /** The items added and not yet through their statement, in order. */
  get pending(): readonly T[] {
    return [...this.sending, ...this.queued];
  }

  get size(): number {
    return this.sending.length + this.queued.length;
  }

  /** Resolves once every item added so far has been through its statement. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queued.length > 0) {
        const batch =
          this.queued.length <= this.max
            ? this.queued
            : this.queued.slice(0, this.max);
        this.queued =
          batch === this.queued ? [] : this.queued.slice(batch.length);
        this.sending = batch;
        await this.send(batch);
        this.sending = [];
      }
    } finally {
      this.sending = [];
      this.flushing = undefined;
    }
  }
}
