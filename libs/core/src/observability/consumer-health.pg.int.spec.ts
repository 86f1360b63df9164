import { postgresDatabase } from '../../test/databases.js';
import { consumerHealthSuite } from '../../test/consumer-health.suite.js';

describe('Consumer health on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  consumerHealthSuite(() => database);
});
