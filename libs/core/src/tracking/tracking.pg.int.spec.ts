import { postgresDatabase } from '../../test/databases.js';
import { trackingSuite } from '../../test/tracking.suite.js';

describe('Consumers on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  trackingSuite(() => database);
});
