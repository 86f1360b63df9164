import { postgresDatabase } from '../../test/databases.js';
import {
  documentIndexesSuite,
  documentSearchSuite,
} from '../../test/document-search.suite.js';

describe('Searching documents on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  documentSearchSuite(() => database);
  describe('declared indexes', () => documentIndexesSuite(() => database));
});
