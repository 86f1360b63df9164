import { postgresDatabase } from '../../../test/databases.js';
import { personalDataSuite } from '../../../test/personal-data.suite.js';

describe('Personal data on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  personalDataSuite(() => database);
});
