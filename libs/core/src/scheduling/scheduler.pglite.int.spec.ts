import { pgliteDatabase } from '../../test/databases.js';
import { schedulerSuite } from '../../test/scheduler.suite.js';

describe('Scheduler on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  schedulerSuite(() => database);
});
