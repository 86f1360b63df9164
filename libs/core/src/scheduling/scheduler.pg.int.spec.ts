import { postgresDatabase } from '../../test/databases.js';
import { schedulerSuite } from '../../test/scheduler.suite.js';

describe('Scheduler on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  schedulerSuite(() => database);
});
