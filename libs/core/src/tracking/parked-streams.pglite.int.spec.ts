import { pgliteDatabase } from '../../test/databases.js';
import { parkedStreamsSuite } from '../../test/parked-streams.suite.js';

describe('Parked streams on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  parkedStreamsSuite(() => database);
});
