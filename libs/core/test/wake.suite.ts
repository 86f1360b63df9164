import type { INestApplicationContext } from '@nestjs/common';
import {
  EventStore,
  newMessageId,
  type PostgresEventStore,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import { deposited, noted, waitFor } from './tracking.fixture.js';
import { segmentsHere, wakeApp, wakes } from './wake.fixture.js';

/** Which segments an append wakes, on each database. */
export function wakeSuite(database: () => TestDatabase): void {
  let schema: string;
  let client: SqlClient;
  let app: INestApplicationContext | undefined;

  beforeEach(async () => {
    schema = freshSchema('wk');
    client = database().client();
    app = await wakeApp(client, schema);
    const started = app;
    await waitFor(
      () =>
        segmentsHere(started, 'deposits') === 3 &&
        segmentsHere(started, 'notes') === 2,
      'every segment is claimed here',
    );
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('wakes only the segments whose consumer reads an appended type', async () => {
    const running = app as INestApplicationContext;
    const store = running.get(EventStore);
    const deposits = wakes(running, 'deposits');
    const notes = wakes(running, 'notes');
    // The signal is synchronous in process: by the time append returns, the
    // wake-ups it caused have been counted.
    await store.append('note-1', [noted('hello')]);
    expect(wakes(running, 'notes')).toBe(notes + 2);
    expect(wakes(running, 'deposits')).toBe(deposits);

    await store.append('account-1', [deposited('account-1', 5)]);
    expect(wakes(running, 'deposits')).toBe(deposits + 3);
    expect(wakes(running, 'notes')).toBe(notes + 2);
  });

  it('collects the types appended in a transaction and wakes on commit', async () => {
    const running = app as INestApplicationContext;
    const store = running.get(EventStore) as PostgresEventStore;
    const deposits = wakes(running, 'deposits');
    const notes = wakes(running, 'notes');
    await store.transaction(async (bound) => {
      await bound.append('note-2', [noted('one')]);
      await bound.append('note-3', [noted('two')]);
      expect(wakes(running, 'notes')).toBe(notes); // nothing before the commit
    });
    expect(wakes(running, 'notes')).toBe(notes + 2);
    expect(wakes(running, 'deposits')).toBe(deposits);
  });

  it('wakes the readers of a type an upcaster turns an appended one into', async () => {
    const running = app as INestApplicationContext;
    const notes = wakes(running, 'notes');
    const id = newMessageId();
    await running.get(EventStore).append('note-4', [
      {
        id,
        type: 'wake.OldNote',
        revision: 1,
        payload: {},
        metadata: { correlationId: id },
        timestamp: new Date(),
      },
    ]);
    expect(wakes(running, 'notes')).toBe(notes + 2);
  });
}
