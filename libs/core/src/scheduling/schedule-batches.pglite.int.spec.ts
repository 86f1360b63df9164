import { pgliteDatabase } from '../../test/databases.js';
import { scheduleBatchesSuite } from '../../test/schedule-batches.suite.js';

describe('Batched schedule removals on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  scheduleBatchesSuite(() => database);
});
