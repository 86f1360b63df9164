import { commandLookupsSuite } from '../../../test/command-lookups.suite.js';
import { pgliteDatabase } from '../../../test/databases.js';

describe('Command record lookups on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  commandLookupsSuite(() => database);
});
