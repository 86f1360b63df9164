import type { INestApplicationContext } from '@nestjs/common';
import {
  AggregateCache,
  aggregateRepositoryToken,
  CommandBus,
  type AggregateRepository,
} from '../../index.js';
import { freshSchema, postgresDatabase } from '../../../test/databases.js';
import {
  AddToTally,
  Tally,
  tallyApp,
  tallyHooks,
} from '../../../test/evolution.fixture.js';

// Two instances of one microclient on one database, each with its own cache,
// writing the same aggregate: as two processes would, but in one test process.
describe('The aggregate cache with two app instances on PostgreSQL', () => {
  const database = postgresDatabase();
  let one: INestApplicationContext;
  let two: INestApplicationContext;

  beforeEach(async () => {
    tallyHooks.beforeSave = async () => undefined;
    const schema = freshSchema('cache');
    one = await tallyApp(database.client(), schema, { cache: true });
    two = await tallyApp(database.otherClient(), schema, { cache: true });
  });

  afterEach(async () => {
    await one.close();
    await two.close();
  });

  afterAll(() => database.close());

  const add = (app: INestApplicationContext, value: number) =>
    app.get(CommandBus).execute(new AddToTally('shared', value));
  const repository = (app: INestApplicationContext) =>
    app.get<AggregateRepository<Tally>>(aggregateRepositoryToken(Tally));

  it('never serves stale state: each instance sees the other one writes', async () => {
    expect(await add(one, 1)).toEqual({ count: 1, sum: 1, version: 1 });
    expect(await add(one, 2)).toEqual({ count: 2, sum: 3, version: 2 });
    expect(one.get(AggregateCache).stats().entries).toBe(1);

    expect(await add(two, 10)).toEqual({ count: 3, sum: 13, version: 3 });
    // Instance one's cache holds version 2; its next command must build on 3.
    expect(await add(one, 100)).toEqual({ count: 4, sum: 113, version: 4 });
    expect(await add(two, 1000)).toEqual({ count: 5, sum: 1113, version: 5 });

    const loaded = await repository(one).load('shared');
    expect([loaded.version, loaded.sum]).toEqual([5, 1113]);
    expect(one.get(AggregateCache).stats().hits).toBeGreaterThan(0);
  });

  it('a handler that loses a race to the other instance is re-run on fresh state', async () => {
    await add(one, 1); // cached by one at version 1
    let interfered = false;
    tallyHooks.beforeSave = async () => {
      if (interfered) return;
      interfered = true;
      await add(two, 10); // lands between one's load and its save
    };
    expect(await add(one, 100)).toEqual({ count: 3, sum: 111, version: 3 });
    tallyHooks.beforeSave = async () => undefined;
    expect(await add(two, 1000)).toEqual({ count: 4, sum: 1111, version: 4 });
    expect(await add(one, 1)).toEqual({ count: 5, sum: 1112, version: 5 });
  });

  it('hands every load its own instance: changing one never changes the next', async () => {
    await add(one, 1);
    const first = await repository(one).load('shared');
    first.sum = -1;
    first.notes.push('scribbled');
    first.add(5); // applied, never saved
    const second = await repository(one).load('shared');
    expect([second.version, second.sum, second.notes]).toEqual([1, 1, []]);
    expect(second.uncommittedEvents).toEqual([]);
  });
});
