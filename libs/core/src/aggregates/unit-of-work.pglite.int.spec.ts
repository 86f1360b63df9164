import { pgliteDatabase } from '../../test/databases.js';
import { unitOfWorkSuite } from '../../test/unit-of-work.suite.js';

describe('Aggregates in a unit of work on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  unitOfWorkSuite(() => database);
});
