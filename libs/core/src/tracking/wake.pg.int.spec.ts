import { postgresDatabase } from '../../test/databases.js';
import { wakeSuite } from '../../test/wake.suite.js';

describe('Wake-ups by event type on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  wakeSuite(() => database);
});
