import { postgresDatabase } from '../../test/databases.js';
import { unitOfWorkSuite } from '../../test/unit-of-work.suite.js';

describe('Aggregates in a unit of work on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  unitOfWorkSuite(() => database);
});
