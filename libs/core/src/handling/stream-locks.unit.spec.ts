import {
  NESTED_LOCK_WAIT_MS,
  StreamLocks,
  type LockOwner,
} from './stream-locks.js';

function owner(parent?: LockOwner, correlationId?: string): LockOwner {
  return { parent, correlationId, held: new Set() };
}

/** Whether the promise has settled by the time pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('StreamLocks', () => {
  const LONG = 60_000;

  it('hands a stream to its waiters one at a time, in the order they came', async () => {
    const locks = new StreamLocks();
    const [a, b, c] = [owner(), owner(), owner()];
    const order: string[] = [];
    expect(await locks.acquire('s', a, LONG)).toBe('taken');
    const bTurn = locks.acquire('s', b, LONG).then((o) => order.push(`b:${o}`));
    const cTurn = locks.acquire('s', c, LONG).then((o) => order.push(`c:${o}`));
    expect(await settled(bTurn)).toBe(false);

    locks.release(a);
    await bTurn;
    expect(order).toEqual(['b:taken']);
    expect(await settled(cTurn)).toBe(false);
    locks.release(b);
    await cTurn;
    expect(order).toEqual(['b:taken', 'c:taken']);
    locks.release(c);
    expect(locks.size).toBe(0);
  });

  it('never makes owners of different streams wait for each other', async () => {
    const locks = new StreamLocks();
    expect(await locks.acquire('s-1', owner(), LONG)).toBe('taken');
    expect(await locks.acquire('s-2', owner(), LONG)).toBe('taken');
  });

  it('lets a unit of work nested in the holder go on at once', async () => {
    const locks = new StreamLocks();
    const outer = owner();
    await locks.acquire('s', outer, LONG);
    const nested = owner(owner(outer));
    expect(await locks.acquire('s', nested, LONG)).toBe('nested');
    expect(nested.held.size).toBe(0);
  });

  it('waits only briefly when the owner already holds another stream', async () => {
    const locks = new StreamLocks();
    const [a, b] = [owner(), owner()];
    await locks.acquire('x', a, LONG);
    await locks.acquire('y', b, LONG);
    // Opposite orders: each would wait for the other for ever.
    const outcomes = await Promise.all([
      locks.acquire('y', a, LONG),
      locks.acquire('x', b, LONG),
    ]);
    expect(outcomes).toEqual(['avoided', 'avoided']);
    expect(NESTED_LOCK_WAIT_MS).toBeLessThan(LONG);
  });

  it('waits only briefly for a holder of its own conversation when it came without a parent', async () => {
    const locks = new StreamLocks();
    await locks.acquire('s', owner(undefined, 'conversation-1'), LONG);
    expect(
      await locks.acquire('s', owner(undefined, 'conversation-1'), LONG),
    ).toBe('avoided');
  });

  it('gives up after the wait it was given, and leaves the queue', async () => {
    const locks = new StreamLocks();
    const [a, b, c] = [owner(), owner(), owner()];
    await locks.acquire('s', a, LONG);
    expect(await locks.acquire('s', b, 20)).toBe('timedOut');
    const cTurn = locks.acquire('s', c, LONG);
    locks.release(a);
    expect(await cTurn).toBe('taken');
    expect(b.held.size).toBe(0);
  });
});
