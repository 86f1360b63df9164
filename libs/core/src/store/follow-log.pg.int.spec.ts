import { postgresDatabase } from '../../test/databases.js';
import { followLogSuite } from '../../test/follow-log.suite.js';

describe('followLog on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  followLogSuite(() => database);
});
