import { pgliteDatabase } from '../../../test/databases.js';
import { storeInputSuite } from '../../../test/store-input.suite.js';

describe('What the store refuses on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  storeInputSuite(() => database);
});
