import { pgliteDatabase } from '../../test/databases.js';
import { rehydrateSuite } from '../../test/rehydrate.suite.js';

describe('Rebuilding aggregates and reading streams on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  rehydrateSuite(() => database);
});
