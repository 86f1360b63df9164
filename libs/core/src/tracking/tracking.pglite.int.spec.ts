import { pgliteDatabase } from '../../test/databases.js';
import { trackingSuite } from '../../test/tracking.suite.js';

describe('Consumers on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  trackingSuite(() => database);
});
