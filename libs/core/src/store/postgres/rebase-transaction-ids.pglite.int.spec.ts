import { pgliteDatabase } from '../../../test/databases.js';
import { rebaseSuite } from '../../../test/rebase.suite.js';

describe('Re-basing transaction ids on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  rebaseSuite(() => database);
});
