import { derivedIdsSuite } from '../../test/derived-ids.suite.js';
import { postgresDatabase } from '../../test/databases.js';

describe('Derived message ids on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  derivedIdsSuite(() => database);
});
