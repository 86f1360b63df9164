import { eventStoreSuite } from '../../../test/event-store.suite.js';
import { postgresDatabase } from '../../../test/databases.js';

describe('EventStore on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  eventStoreSuite(() => database);
});
