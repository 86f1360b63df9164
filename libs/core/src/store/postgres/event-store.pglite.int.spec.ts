import { eventStoreSuite } from '../../../test/event-store.suite.js';
import { pgliteDatabase } from '../../../test/databases.js';

describe('EventStore on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  eventStoreSuite(() => database);
});
