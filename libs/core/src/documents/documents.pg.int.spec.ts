import { postgresDatabase } from '../../test/databases.js';
import { documentsSuite } from '../../test/documents.suite.js';

describe('Documents on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  documentsSuite(() => database);
});
