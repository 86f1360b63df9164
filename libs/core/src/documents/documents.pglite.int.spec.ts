import { pgliteDatabase } from '../../test/databases.js';
import { documentsSuite } from '../../test/documents.suite.js';

describe('Documents on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  documentsSuite(() => database);
});
