import { pgliteDatabase } from '../../test/databases.js';
import { processesSuite } from '../../test/processes.suite.js';

describe('Process managers on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  processesSuite(() => database);
});
