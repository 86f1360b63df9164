import { pgliteDatabase } from '../../test/databases.js';
import { filledCollectionsSuite } from '../../test/filled-collections.suite.js';

describe('Collections filled by a consumer on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  filledCollectionsSuite(() => database);
});
