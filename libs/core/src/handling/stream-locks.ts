/** Who holds stream locks: a unit of work, nested in the one that ran it (if any). */
export interface LockOwner {
  /** The unit of work this one runs inside (a command sent from a handler, awaited). */
  readonly parent?: LockOwner;
  /** The streams this owner holds. */
  readonly held: Set<string>;
  /** The conversation it belongs to, to spot a holder that waits for us across the wire. */
  readonly correlationId?: string;
}

interface Waiter {
  readonly owner: LockOwner;
  readonly grant: () => void;
}

/**
 * How an acquisition ended: the lock is the owner's (`taken`), or the owner
 * goes on without it because its holder waits for the owner (`nested`), a
 * short wait that could have closed a cycle ran out (`avoided`), or the
 * full wait ran out (`timedOut`).
 */
export type LockOutcome = 'taken' | 'nested' | 'avoided' | 'timedOut';

interface Lock {
  holder: LockOwner;
  readonly waiters: Waiter[];
}

/** How long a wait that might close a cycle lasts before going on without the lock. */
export const NESTED_LOCK_WAIT_MS = 100;

/**
 * This process's locks on aggregate streams, so that its commands on one
 * aggregate take turns (first come, first served) instead of racing to the
 * database and losing on its expected-version check. A lock only saves
 * retries: when waiting could deadlock, or lasts too long, the unit of work
 * goes on without it and the database's check stays the safety net.
 */
export class StreamLocks {
  private readonly locks = new Map<string, Lock>();

  /**
   * Takes `streamId` for `owner`, waiting up to `waitMs` for its holder.
   * Never waits for an owner that (through nested commands) waits for us,
   * and waits only briefly when the owner already holds other locks, or
   * belongs to the holder's conversation: those waits could close a cycle.
   */
  async acquire(
    streamId: string,
    owner: LockOwner,
    waitMs: number,
  ): Promise<LockOutcome> {
    if (owner.held.has(streamId)) return 'taken';
    const lock = this.locks.get(streamId);
    if (!lock) {
      this.locks.set(streamId, { holder: owner, waiters: [] });
      owner.held.add(streamId);
      return 'taken';
    }
    if (isWithin(owner, lock.holder)) return 'nested';
    if (mightCycle(owner, lock.holder)) {
      const wait = Math.min(waitMs, NESTED_LOCK_WAIT_MS);
      return (await this.wait(lock, owner, wait)) ? 'taken' : 'avoided';
    }
    return (await this.wait(lock, owner, waitMs)) ? 'taken' : 'timedOut';
  }

  /** Hands each of the owner's streams to its next waiter, or frees it. */
  release(owner: LockOwner): void {
    for (const streamId of owner.held) {
      const lock = this.locks.get(streamId);
      if (lock?.holder !== owner) continue;
      const next = lock.waiters.shift();
      if (!next) {
        this.locks.delete(streamId);
        continue;
      }
      lock.holder = next.owner;
      next.owner.held.add(streamId);
      next.grant();
    }
    owner.held.clear();
  }

  /** How many streams are locked now (for tests and health). */
  get size(): number {
    return this.locks.size;
  }

  private wait(lock: Lock, owner: LockOwner, waitMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        owner,
        grant: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        const index = lock.waiters.indexOf(waiter);
        if (index >= 0) lock.waiters.splice(index, 1);
        resolve(false);
      }, waitMs);
      timer.unref?.();
      lock.waiters.push(waiter);
    });
  }
}

/** Whether `owner` is `ancestor` or runs inside it. */
function isWithin(owner: LockOwner, ancestor: LockOwner): boolean {
  for (let o: LockOwner | undefined = owner; o; o = o.parent) {
    if (o === ancestor) return true;
  }
  return false;
}

/**
 * Whether waiting for `holder` could close a cycle: `owner` (or a unit of work
 * it runs inside) holds other locks, or it came in over the wire (no parent
 * here) as part of the holder's conversation, so the holder may be awaiting it.
 */
function mightCycle(owner: LockOwner, holder: LockOwner): boolean {
  if (holdsAny(owner)) return true;
  return (
    owner.parent === undefined &&
    owner.correlationId !== undefined &&
    owner.correlationId === holder.correlationId
  );
}

/** Whether `owner` or a unit of work it runs inside holds any lock. */
function holdsAny(owner: LockOwner): boolean {
  for (let o: LockOwner | undefined = owner; o; o = o.parent) {
    if (o.held.size > 0) return true;
  }
  return false;
}
