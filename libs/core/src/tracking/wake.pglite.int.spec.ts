import { pgliteDatabase } from '../../test/databases.js';
import { wakeSuite } from '../../test/wake.suite.js';

describe('Wake-ups by event type on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  wakeSuite(() => database);
});
