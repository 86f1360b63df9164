import type { INestApplicationContext } from '@nestjs/common';
import {
  Consumer,
  EventStore,
  followReplay,
  HandleEvent,
  PostgresEventStore,
  requestReplay,
  type ReplayProgress,
  type StoredEvent,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import {
  noted,
  Noted,
  trackingApp,
  waitFor,
} from '../../test/tracking.fixture.js';

// A replay reads the log through the same safe horizon as live tracking: an
// event committed behind a still-open transaction is neither read before that
// transaction's event nor skipped, and the replay's progress counts towards
// the head a reader can see.

const seen: string[] = [];

@Consumer('replayed', { batchSize: 100 })
class ReplayedNotes {
  @HandleEvent(Noted)
  onNoted(event: Noted, envelope: StoredEvent<Noted>): void {
    seen.push(envelope.id);
  }
}

const database = postgresDatabase();
afterAll(() => database.close());

describe('replay from a point in time, on PostgreSQL', () => {
  let schema: string;
  let app: INestApplicationContext | undefined;
  let releaseHeld: (() => void) | undefined;

  beforeEach(() => {
    schema = freshSchema('rph');
    seen.length = 0;
  });

  afterEach(async () => {
    releaseHeld?.();
    await app?.close();
    await database.client().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('reads up to the safe horizon: an open transaction holds the replay back, its event is replayed in log order, and progress counts what is readable', async () => {
    app = await trackingApp(database.client(), schema, [ReplayedNotes]);
    const store = app.get(EventStore) as PostgresEventStore;
    const first = noted('first');
    const second = noted('second');
    await store.append('n-1', [first]);
    await store.append('n-2', [second]);
    await waitFor(() => seen.length === 2, 'the live run');

    // Another connection writes "late" and keeps its transaction open.
    const late = noted('late');
    let appended: () => void = () => {};
    const lateAppended = new Promise<void>((r) => (appended = r));
    const released = new Promise<void>((r) => (releaseHeld = r));
    const held = database.otherClient().transaction(async (tx) => {
      await new PostgresEventStore(tx, schema).append('n-late', [late]);
      appended();
      await released;
    });
    await lateAppended;
    const after = noted('after');
    await store.append('n-after', [after]);

    await requestReplay(store, 'replayed', { to: 'beginning' });
    const looks: ReplayProgress[] = [];
    const last = await followReplay(store, 'replayed', 'beginning', {
      intervalMs: 20,
      onProgress: (p) => looks.push(p),
    });
    // The goal is the head a reader can see: "late" and "after" wait behind it.
    expect(last).toMatchObject({ finished: true, total: 2, done: 2 });
    // The replay read everything readable in one batch: "after" was not in it.
    await waitFor(() => seen.length === 4, 'the replay of the first two');
    expect(seen).toEqual([first.id, second.id, first.id, second.id]);

    releaseHeld?.();
    await held;
    await waitFor(() => seen.length === 6, 'the held events');
    // In log order: the older transaction's event first, each once.
    expect(seen.slice(4)).toEqual([late.id, after.id]);
  });

  it('progress from a date counts the events stored since then', async () => {
    app = await trackingApp(database.client(), schema, [ReplayedNotes]);
    const store = app.get(EventStore) as PostgresEventStore;
    for (let i = 0; i < 5; i++) await store.append(`old-${i}`, [noted('old')]);
    await waitFor(() => seen.length === 5, 'the old events');
    const [{ now }] = await database
      .client()
      .query<{ now: Date }>('SELECT clock_timestamp() AS now');
    for (let i = 0; i < 7; i++) await store.append(`new-${i}`, [noted('new')]);
    await waitFor(() => seen.length === 12, 'the new events');
    await requestReplay(store, 'replayed', { to: new Date(now) });
    const last = await followReplay(store, 'replayed', new Date(now), {
      intervalMs: 20,
      onProgress: () => {},
    });
    expect(last).toMatchObject({ finished: true, total: 7, done: 7 });
    await waitFor(() => seen.length === 19, 'the replay since the date');
  });
});
