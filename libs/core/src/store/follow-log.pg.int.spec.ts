import pg from 'pg';
import { DATABASE_URL, postgresDatabase } from '../../test/databases.js';
import { event } from '../../test/event-store.suite.js';
import { followLogSuite } from '../../test/follow-log.suite.js';
import { LocalAppendSignal } from './append-signal.js';
import { followLog } from './follow-log.js';
import { PostgresEventStore } from './postgres/index.js';

describe('followLog on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  followLogSuite(() => database);

  // Only PostgreSQL has a second connection to hold a transaction open while
  // the follower starts; PGlite runs one statement at a time.
  it('started with no place, skips what had committed before it even while an older transaction holds the horizon back', async () => {
    const fresh = await database.freshStore();
    const store = new PostgresEventStore(
      fresh.client,
      fresh.schema,
      new LocalAppendSignal(),
    );
    const holder = new pg.Client({ connectionString: DATABASE_URL });
    await holder.connect();
    const stop = new AbortController();
    try {
      // An open transaction with an id, older than the next append: every
      // event committed from now on is above the safe horizon until it ends.
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
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
      const feed = followLog(store, { pollMs: 20, signal: stop.signal });
      const first = feed.next();
      await started;
      await store.append('a', [event('t.After')]);
      await holder.query('ROLLBACK');
      const taken = await first;
      expect(taken.done).toBe(false);
      expect(taken.value?.event.type).toBe('t.After');
    } finally {
      stop.abort();
      await holder.end();
    }
  });
});
