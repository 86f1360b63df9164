import { pgliteDatabase } from '../../test/databases.js';
import { documentsForgetsSuite } from '../../test/documents-forgets.suite.js';

describe('Documents following recorded forgets on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  documentsForgetsSuite(() => database);
});
