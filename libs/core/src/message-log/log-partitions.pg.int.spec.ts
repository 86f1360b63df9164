import { postgresDatabase } from '../../test/databases.js';
import { logRetentionSuite } from '../../test/log-retention.suite.js';

describe('Message log partitions and retention on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  logRetentionSuite(() => database);
});
