import { postgresDatabase } from '../../test/databases.js';
import { scheduleBatchesSuite } from '../../test/schedule-batches.suite.js';

describe('Batched schedule removals on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  scheduleBatchesSuite(() => database);
});
