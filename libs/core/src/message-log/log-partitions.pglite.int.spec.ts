import { pgliteDatabase } from '../../test/databases.js';
import { logRetentionSuite } from '../../test/log-retention.suite.js';

describe('Message log partitions and retention on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  logRetentionSuite(() => database);
});
