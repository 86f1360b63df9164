import { postgresDatabase } from '../../test/databases.js';
import { filledCollectionsSuite } from '../../test/filled-collections.suite.js';

describe('Collections filled by a consumer on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  filledCollectionsSuite(() => database);
});
