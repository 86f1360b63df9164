import { pgliteDatabase } from '../../test/databases.js';
import { followLogSuite } from '../../test/follow-log.suite.js';

describe('followLog on embedded PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  followLogSuite(() => database);
});
