import type { INestApplicationContext } from '@nestjs/common';
import {
  aggregateRepositoryToken,
  CommandBus,
  EventStore,
  EventUpcaster,
  UnknownMessageTypeError,
  UnsupportedRevisionError,
  type AggregateRepository,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import {
  AddToTally,
  rawEvents,
  Tally,
  TALLY_TYPE,
  tallyApp,
} from '../../test/evolution.fixture.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

// Events written by older code, read by today's aggregate through the
// @Upcaster methods of a provider (TallyUpcasters in the fixture).
describe('Aggregates read old events through upcasters, on PostgreSQL', () => {
  const database = postgresDatabase();
  let app: INestApplicationContext;
  let store: EventStore;
  let tallies: AggregateRepository<Tally>;

  beforeEach(async () => {
    app = await tallyApp(database.client(), freshSchema('up'), {
      cache: false,
    });
    store = app.get(EventStore);
    tallies = app.get(aggregateRepositoryToken(Tally));
  });

  afterEach(() => app.close());
  afterAll(() => database.close());

  it('chains 1 -> 2 -> 3, renames, splits and drops, keeping the stream version and the stored rows', async () => {
    const streamId = `${TALLY_TYPE}-old`;
    await store.append(
      streamId,
      rawEvents([
        { type: 'evo.Tallied', revision: 1, payload: { value: 1 } },
        {
          type: 'evo.Tallied',
          revision: 2,
          payload: { amount: 2, unit: 'pcs' },
        },
        { type: 'evo.Counted', payload: { n: 4 } },
        { type: 'evo.BatchTallied', payload: { values: [8, 16, 32] } },
        { type: 'evo.Ping', payload: {} },
        {
          type: 'evo.Tallied',
          revision: 3,
          payload: { amount: { value: 64 }, note: 'now' },
        },
      ]),
    );

    const tally = await tallies.load('old');
    // 1 + 2 + 4 + (8 + 16 + 32) + 64, from 7 events; the ping is gone.
    expect([tally.count, tally.sum, tally.notes]).toEqual([7, 127, ['now']]);
    expect(tally.version).toBe(6);

    // The version is the stream's, so the next command appends after the ping.
    expect(
      await app.get(CommandBus).execute(new AddToTally('old', 128)),
    ).toEqual({ count: 8, sum: 255, version: 7 });

    // Nothing stored was rewritten.
    const stored = await collect(store.readStream(streamId));
    expect(
      stored.slice(0, 3).map((e) => [e.type, e.revision, e.payload]),
    ).toEqual([
      ['evo.Tallied', 1, { value: 1 }],
      ['evo.Tallied', 2, { amount: 2, unit: 'pcs' }],
      ['evo.Counted', 1, { n: 4 }],
    ]);

    // Other readers (consumers, replay) call the same upcaster.
    const upcast = app.get(EventUpcaster).upcast(stored);
    expect(upcast.map((e) => e.type)).toEqual(Array(8).fill('evo.Tallied'));
    expect(upcast.every((e) => e.revision === 3)).toBe(true);
  });

  it('refuses a revision newer than the code, naming type, revision and position', async () => {
    await store.append(
      `${TALLY_TYPE}-new`,
      rawEvents([
        { type: 'evo.Tallied', revision: 3, payload: { amount: { value: 1 } } },
        { type: 'evo.Tallied', revision: 4, payload: { amount: { value: 2 } } },
      ]),
    );
    const [, newer] = await collect(store.readStream(`${TALLY_TYPE}-new`));
    const error = await tallies.load('new').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedRevisionError);
    expect((error as Error).message).toBe(
      `Stored "evo.Tallied" revision 4 at position ${newer.position} is newer than revision 3 ` +
        'that this code declares. Deploy the code that wrote it, or run an older reader.',
    );
  });

  it('refuses an unknown type, naming it', async () => {
    await store.append(
      `${TALLY_TYPE}-odd`,
      rawEvents([{ type: 'evo.Vanished', revision: 2, payload: {} }]),
    );
    await expect(tallies.load('odd')).rejects.toThrow(UnknownMessageTypeError);
    await expect(tallies.load('odd')).rejects.toThrow(
      /"evo.Vanished" revision 2 at position \d+/,
    );
  });
});
