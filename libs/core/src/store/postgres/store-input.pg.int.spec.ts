import { postgresDatabase } from '../../../test/databases.js';
import { storeInputSuite } from '../../../test/store-input.suite.js';

describe('What the store refuses on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  storeInputSuite(() => database);
});
