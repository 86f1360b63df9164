import { pgliteDatabase } from '../../test/databases.js';
import { errorMessagesSuite } from '../../test/error-messages.suite.js';

describe('Errors as messages on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  errorMessagesSuite(() => database);
});
