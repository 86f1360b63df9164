import type { INestApplicationContext } from '@nestjs/common';
import {
  EventStore,
  Notifications,
  PostgresEventStore,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import { notifyApp, witnessOf } from './notifications.fixture.js';
import { noted, waitFor } from './tracking.fixture.js';

/** Notifications on each database, in process (local transport). */
export function notificationsSuite(database: () => TestDatabase): void {
  let schema: string;
  let client: SqlClient;
  const apps: INestApplicationContext[] = [];

  async function start(name: string): Promise<INestApplicationContext> {
    const app = await notifyApp(client, schema, name);
    apps.push(app);
    return app;
  }

  beforeEach(() => {
    schema = freshSchema('ntf');
    client = database().client();
  });

  afterEach(async () => {
    for (const app of apps) witnessOf(app).release();
    while (apps.length > 0) await apps.pop()?.close();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('starts at now and gives every instance each later event once, in log order', async () => {
    const first = await start('first');
    const store = first.get(EventStore);
    const before = noted('before');
    await store.append('note-0', [before]);
    // Each app has its own in-process signal: the second hears of the
    // first's appends only by polling, the fallback a process on PostgreSQL
    // without NATS relies on.
    const second = await start('second');
    const appended: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const event = noted(`n${i}`);
      await store.append(`note-${i % 3}`, [event]);
      appended.push(event.id);
    }
    const all = [before.id, ...appended];
    await waitFor(
      () =>
        witnessOf(first).notified.length >= all.length &&
        witnessOf(second).notified.length >= appended.length,
      'both instances are notified',
    );
    // The second started after "before" was committed: it never sees it.
    expect(witnessOf(second).notified).toEqual(appended);
    expect(witnessOf(second).alsoNotified).toEqual(appended);
    expect(witnessOf(first).notified).toEqual(all);
    expect(second.get(Notifications).delivered).toBe(appended.length);
  });

  it('reports a failing handler as an error message, skips it, and goes on', async () => {
    const app = await start('only');
    const store = app.get(EventStore);
    const failing = noted('fail');
    await store.append('note-1', [failing]);
    const next = noted('next');
    await store.append('note-1', [next]);
    const witness = witnessOf(app);
    await waitFor(
      () => witness.notified.length === 1 && witness.failures.length === 1,
      'the next event is notified and the failure reported',
    );
    expect(witness.notified).toEqual([next.id]);
    // The other handler of the same event is not held back by the failure.
    expect(witness.alsoNotified).toEqual([failing.id, next.id]);
    expect(witness.failures[0]).toMatchObject({
      messageId: failing.id,
      handler: 'notification:NoteListener.onNoted',
      next: 'skipped',
      attempt: 1,
    });
    expect(witness.failures[0].error.message).toBe(
      'notification handler fails',
    );
  });

  it('a hanging handler holds back only notifications: the consumer goes on', async () => {
    const app = await start('only');
    const store = app.get(EventStore);
    const witness = witnessOf(app);
    const hang = noted('hang');
    await store.append('note-1', [hang]);
    const later: string[] = [];
    for (let i = 0; i < 5; i++) {
      const event = noted(`after ${i}`);
      await store.append(`note-${i}`, [event]);
      later.push(event.id);
    }
    await waitFor(
      () => witness.tracked.length === 6,
      'the consumer handles every note',
    );
    // Still stuck in the hanging handler (the first of the event's two):
    // neither its other handler nor any later event was notified.
    expect(witness.alsoNotified).toEqual([]);
    expect(witness.notified).toEqual([]);
    witness.release();
    await waitFor(
      () => witness.notified.length === 6,
      'notifications go on once the handler returns',
    );
    expect(witness.notified).toEqual([hang.id, ...later]);
    expect(witness.alsoNotified).toEqual([hang.id, ...later]);
  });

  if (database().concurrentTransactions) {
    it('reads up to the safe horizon: an event committed behind an open transaction waits for it', async () => {
      const app = await start('only');
      const witness = witnessOf(app);
      const notifications = app.get(Notifications);
      const other = new PostgresEventStore(database().otherClient(), schema);
      let commit: () => void = () => {};
      const committed = new Promise<void>((resolve) => (commit = resolve));
      let inFlightId = '';
      let appendedInFlight: () => void = () => {};
      const appended = new Promise<void>((r) => (appendedInFlight = r));
      const inFlight = other.transaction(async (bound) => {
        const event = noted('in flight');
        await bound.append('note-slow', [event]);
        inFlightId = event.id;
        appendedInFlight();
        await committed;
      });
      await appended;
      const later = noted('later');
      await app.get(EventStore).append('note-fast', [later]);
      // Two more reads of the log after "later" committed, and it is still not delivered.
      const reads = notifications.reads;
      await waitFor(
        () => notifications.reads >= reads + 2,
        'the reader reads again',
      );
      expect(witness.notified).toEqual([]);
      commit();
      await inFlight;
      await waitFor(
        () => witness.notified.length === 2,
        'both are notified once the transaction ends',
      );
      // In log order: the older transaction first.
      expect(witness.notified).toEqual([inFlightId, later.id]);
    });
  }
}
