import { jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { CapturingLogger } from '@nestjs/testing';
import {
  aggregateRepositoryToken,
  CommandBus,
  EventStore,
  SnapshotWriter,
  type AggregateRepository,
  type PostgresEventStore,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  AddToTally,
  rawEvents,
  Tally,
  TALLY_TYPE,
  tallyApp,
} from './evolution.fixture.js';

/** Tallied events, as current and older code wrote them; what they add up to. */
function talliedEvents(from: number, count: number) {
  const events: {
    type: string;
    revision: number;
    payload: Record<string, unknown>;
  }[] = [];
  let sum = 0;
  for (let i = from; i < from + count; i++) {
    if (i % 1000 === 0) {
      events.push({ type: 'evo.Tallied', revision: 1, payload: { value: 5 } });
      sum += 5;
    } else {
      const note = i % 10_000 === 1 ? `n${i}` : '';
      events.push({
        type: 'evo.Tallied',
        revision: 3,
        payload: { amount: { value: i % 7 }, note },
      });
      sum += i % 7;
    }
  }
  return { events: rawEvents(events), sum };
}

function stateOf(tally: Tally) {
  return {
    version: tally.version,
    count: tally.count,
    sum: tally.sum,
    notes: tally.notes,
  };
}

/** Snapshots on a real database: what users rely on when aggregates grow long. */
export function snapshotsSuite(database: () => TestDatabase): void {
  const apps: INestApplicationContext[] = [];
  let schema: string;

  async function start(
    options: Parameters<typeof tallyApp>[2] = { cache: false },
    logger?: CapturingLogger,
  ) {
    const app = await tallyApp(database().client(), schema, options, logger);
    apps.push(app);
    return {
      app,
      store: app.get(EventStore) as PostgresEventStore,
      tallies: app.get<AggregateRepository<Tally>>(
        aggregateRepositoryToken(Tally),
      ),
      commands: app.get(CommandBus),
      writer: app.get(SnapshotWriter),
    };
  }

  async function snapshotRows() {
    return database()
      .client()
      .query<{ stream_version: string; revision: number }>(
        `SELECT stream_version::text AS stream_version, revision FROM "${schema}".snapshots ORDER BY stream_version`,
      );
  }

  beforeEach(() => {
    schema = freshSchema('snap');
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await database().client().exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('loads a 100,000-event aggregate to the same state from its snapshot as from its events', async () => {
    if (database().name !== 'postgres') return; // size belongs on the server
    const { store, tallies, commands, writer } = await start();
    const streamId = `${TALLY_TYPE}-big`;
    let sum = 0;
    for (let from = 0; from < 100_000; from += 20_000) {
      const batch = talliedEvents(from, 20_000);
      sum += batch.sum;
      await store.append(streamId, batch.events, { expectedVersion: from });
    }
    const cold = await tallies.load('big');
    expect(stateOf(cold)).toEqual({
      version: 100_000,
      count: 100_000,
      sum,
      notes: ['n50001', 'n60001', 'n70001', 'n80001', 'n90001'],
    });

    // The next command crosses snapshotEvery (500) and earns a snapshot, written after it returns.
    expect(await commands.execute(new AddToTally('big', 3))).toEqual({
      count: 100_001,
      sum: sum + 3,
      version: 100_001,
    });
    await writer.flush();
    expect(await snapshotRows()).toEqual([
      { stream_version: '100001', revision: 2 },
    ]);

    const reads = jest.spyOn(store, 'readStream');
    const fromSnapshot = await tallies.load('big');
    expect(reads).toHaveBeenCalledWith(streamId, {
      fromVersion: 100_002,
      toVersion: undefined,
    });
    reads.mockRestore();

    const replayOnly = await start({ cache: false, snapshots: false });
    const fromEvents = await replayOnly.tallies.load('big');
    expect(stateOf(fromSnapshot)).toEqual(stateOf(fromEvents));
    expect(stateOf(fromSnapshot)).toMatchObject({
      count: 100_001,
      sum: sum + 3,
    });
    expect(fromSnapshot).toBeInstanceOf(Tally);
  });

  it('ignores a snapshot of another snapshotRevision, replays the events, and replaces it', async () => {
    const { store, tallies, commands, writer } = await start();
    const streamId = `${TALLY_TYPE}-t1`;
    const batch = talliedEvents(1, 600);
    await store.append(streamId, batch.events);
    // What code with snapshotRevision 1 stored: another shape, and by now wrong.
    await database()
      .client()
      .query(
        `INSERT INTO "${schema}".snapshots (stream_id, stream_version, aggregate_type, revision, state)
         VALUES ($1::text, 600, $2::text, 1, '{"count": 999999, "total": -1, "notes": ["stale"]}'::jsonb)`,
        [streamId, TALLY_TYPE],
      );

    const loaded = await tallies.load('t1');
    expect(stateOf(loaded)).toEqual({
      version: 600,
      count: 600,
      sum: batch.sum,
      notes: ['n1'],
    });

    await commands.execute(new AddToTally('t1', 1));
    await writer.flush();
    expect(await snapshotRows()).toEqual([
      { stream_version: '601', revision: 2 },
    ]);
    const again = await (await start()).tallies.load('t1');
    expect(stateOf(again)).toEqual({
      version: 601,
      count: 601,
      sum: batch.sum + 1,
      notes: ['n1'],
    });
  });

  it('time travel starts from a snapshot at or before the version asked for', async () => {
    const { store, tallies, commands, writer } = await start();
    await store.append(`${TALLY_TYPE}-tt`, talliedEvents(1, 499).events);
    await commands.execute(new AddToTally('tt', 1000)); // v500: snapshot
    await commands.execute(new AddToTally('tt', 1)); // v501
    await writer.flush();
    expect((await tallies.load('tt', { atVersion: 499 })).count).toBe(499);
    expect((await tallies.load('tt', { atVersion: 500 })).sum).toBe(
      talliedEvents(1, 499).sum + 1000,
    );
    expect((await tallies.load('tt')).version).toBe(501);
  });

  it('a snapshot that cannot be read or written never fails a command', async () => {
    const logger = new CapturingLogger();
    const { store, tallies, commands, writer } = await start(
      { cache: false },
      logger,
    );
    await store.append(`${TALLY_TYPE}-f`, talliedEvents(1, 500).events);
    await database()
      .client()
      .exec(`ALTER TABLE "${schema}".snapshots RENAME TO snapshots_gone`);

    expect(await commands.execute(new AddToTally('f', 2))).toMatchObject({
      count: 501,
      version: 501,
    });
    await writer.flush();
    logger.assertLogged({
      level: 'warn',
      message: /Could not store the snapshot of "evo.Tally-f" at version 501/,
    });
    logger.assertLogged({
      level: 'warn',
      message: /Could not read the snapshot of "evo.Tally-f"/,
    });
    expect((await tallies.load('f')).count).toBe(501);
  });
}
