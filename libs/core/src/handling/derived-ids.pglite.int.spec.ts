import { derivedIdsSuite } from '../../test/derived-ids.suite.js';
import { pgliteDatabase } from '../../test/databases.js';

describe('Derived message ids on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  derivedIdsSuite(() => database);
});
