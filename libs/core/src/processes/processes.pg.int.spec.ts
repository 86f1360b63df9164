import { postgresDatabase } from '../../test/databases.js';
import { processesSuite } from '../../test/processes.suite.js';

describe('Process managers on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  processesSuite(() => database);
});
