import { pgliteDatabase } from '../../core/test/databases.js';
import { consoleSuite } from '../test/console.suite.js';

describe('The web console on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  consoleSuite(() => database);
});
