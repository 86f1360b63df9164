import { pgliteDatabase } from '../../test/databases.js';
import { blueGreenSuite } from '../../test/blue-green.suite.js';

describe('Blue-green consumer versions on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  blueGreenSuite(() => database);
});
