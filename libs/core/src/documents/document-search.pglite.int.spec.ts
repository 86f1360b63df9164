import { pgliteDatabase } from '../../test/databases.js';
import {
  documentIndexesSuite,
  documentSearchSuite,
} from '../../test/document-search.suite.js';

describe('Searching documents on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  documentSearchSuite(() => database);
  describe('declared indexes', () => documentIndexesSuite(() => database));
});
