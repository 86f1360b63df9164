import { pgliteDatabase } from '../../test/databases.js';
import { consumerHealthSuite } from '../../test/consumer-health.suite.js';

describe('Consumer health on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  consumerHealthSuite(() => database);
});
