/**
 * The signatures this process accepted while they could still be accepted
 * (within the signing window): one seen again is a replay. In memory, so a
 * replay to another instance of the app within the window is not caught here
 * (see docs/guides/security.md). Bounded: past `limit` entries the oldest go
 * first.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly limit = 1_000_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records `signature` (signed at `signedAt`); false when it was seen before. */
  firstTime(signature: string, signedAt: number): boolean {
    const now = this.now();
    for (const [old, expires] of this.seen) {
      if (expires > now && this.seen.size < this.limit) break;
      this.seen.delete(old);
    }
    if (this.seen.has(signature)) return false;
    // Acceptable until signedAt + window; remembered until then.
    this.seen.set(signature, signedAt + this.windowMs + 1);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
