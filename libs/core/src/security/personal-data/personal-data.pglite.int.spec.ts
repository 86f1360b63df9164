import { pgliteDatabase } from '../../../test/databases.js';
import { personalDataSuite } from '../../../test/personal-data.suite.js';

describe('Personal data on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  personalDataSuite(() => database);
});
