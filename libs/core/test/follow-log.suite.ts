import {
  followLog,
  LocalAppendSignal,
  LOG_START,
  PostgresEventStore,
  type FollowedEvent,
  type FollowLogOptions,
} from '../src/index.js';
import type { TestDatabase } from './databases.js';
import { event } from './event-store.suite.js';

/** Long enough that only a wake-up (or an abort) can end a wait within the test. */
const NEVER = 3_600_000;

export function followLogSuite(database: () => TestDatabase): void {
  let store: PostgresEventStore;
  let signal: LocalAppendSignal;
  const followers: AbortController[] = [];

  beforeEach(async () => {
    const fresh = await database().freshStore();
    signal = new LocalAppendSignal();
    store = new PostgresEventStore(fresh.client, fresh.schema, signal);
  });
  afterEach(() => {
    for (const follower of followers.splice(0)) follower.abort();
  });

  /** Follows the log in the background; `taken` fills as events arrive. */
  function follow(options: Omit<FollowLogOptions, 'signal'> = {}) {
    const controller = new AbortController();
    followers.push(controller);
    const taken: FollowedEvent[] = [];
    let arrived: (() => void) | undefined;
    const done = (async () => {
      // Polls too: what was appended before the follower started may be held
      // back by another spec's open transaction, and no wake-up will come.
      for await (const item of followLog(store, {
        pollMs: 50,
        ...options,
        signal: controller.signal,
      })) {
        taken.push(item);
        arrived?.();
      }
    })();
    /** Resolves once `count` events were taken. */
    const until = (count: number) =>
      new Promise<void>((resolve) => {
        arrived = () => {
          if (taken.length >= count) resolve();
        };
        arrived();
      });
    return { taken, until, done, stop: () => controller.abort() };
  }
  const types = (items: readonly FollowedEvent[]) =>
    items.map((i) => i.event.type);

  it('reads the log from the beginning in order, each event with its checkpoint', async () => {
    await store.append('a', [event('t.One'), event('t.Two')]);
    await store.append('b', [event('t.Three')]);
    const feed = follow({ after: LOG_START });
    await feed.until(3);
    expect(types(feed.taken)).toEqual(['t.One', 't.Two', 't.Three']);
    for (const { event: e, checkpoint } of feed.taken) {
      expect(checkpoint).toEqual({
        transactionId: e.transactionId,
        position: e.position,
      });
    }
  });

  it('resumes right after a checkpoint it gave', async () => {
    await store.append('a', [event('t.One'), event('t.Two')]);
    await store.append('b', [event('t.Three')]);
    const first = follow({ after: LOG_START });
    await first.until(3);
    first.stop();
    const resumed = follow({ after: first.taken[0].checkpoint });
    await resumed.until(2);
    expect(types(resumed.taken)).toEqual(['t.Two', 't.Three']);
  });

  it('starts at the newest event when given no place, and yields only what commits after', async () => {
    await store.append('a', [event('t.Before')]);
    // Append the next event once the follower has taken its start, not before.
    const started = new Promise<void>((resolve) => {
      const head = store.logHead.bind(store);
      store.logHead = async () => {
        const taken = await head();
        resolve();
        return taken;
      };
    });
    const feed = follow();
    await started;
    await store.append('a', [event('t.After')]);
    await feed.until(1);
    expect(types(feed.taken)).toEqual(['t.After']);
  });

  it('yields only the types asked for', async () => {
    const feed = follow({ after: LOG_START, types: ['t.Kept'] });
    await store.append('a', [event('t.Dropped'), event('t.Kept')]);
    await store.append('b', [event('t.Dropped')]);
    await store.append('c', [event('t.Kept', { n: 2 })]);
    await feed.until(2);
    expect(types(feed.taken)).toEqual(['t.Kept', 't.Kept']);
    expect(feed.taken[1].event.payload).toEqual({ n: 2 });
  });

  it('is woken by the store’s append signal when caught up, not by its poll', async () => {
    const feed = follow({ after: LOG_START, pollMs: NEVER });
    for (let i = 1; i <= 3; i++) {
      await store.append(`s-${i}`, [event('t.Live', { i })]);
      // The poll is an hour away: only the signal can bring each one.
      await feed.until(i);
    }
    expect(feed.taken.map((t) => t.event.payload)).toEqual([
      { i: 1 },
      { i: 2 },
      { i: 3 },
    ]);
  });

  it('looks again every pollMs without a signal (another app’s append, no relay)', async () => {
    const quiet = new PostgresEventStore(store.client, store.schema);
    const controller = new AbortController();
    followers.push(controller);
    const seen: string[] = [];
    const done = (async () => {
      for await (const { event: e } of followLog(quiet, {
        after: LOG_START,
        pollMs: 20,
        signal: controller.signal,
      })) {
        seen.push(e.type);
        if (seen.length === 1) controller.abort();
      }
    })();
    // Appended by a store whose signal the follower does not hear.
    await new PostgresEventStore(store.client, store.schema).append('x', [
      event('t.Polled'),
    ]);
    await done;
    expect(seen).toEqual(['t.Polled']);
  });

  it('ends when aborted while it waits', async () => {
    const feed = follow({ after: LOG_START });
    await store.append('a', [event('t.One')]);
    await feed.until(1);
    feed.stop();
    await feed.done; // would hang for an hour if the abort did not end the wait
    await store.append('a', [event('t.Two')]);
    expect(types(feed.taken)).toEqual(['t.One']);
  });

  it('yields nothing when the signal is already aborted', async () => {
    await store.append('a', [event('t.One')]);
    const seen: unknown[] = [];
    for await (const item of followLog(store, {
      after: LOG_START,
      signal: AbortSignal.abort(),
    }))
      seen.push(item);
    expect(seen).toEqual([]);
  });
}
