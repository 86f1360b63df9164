import { postgresDatabase } from '../../test/databases.js';
import { blueGreenSuite } from '../../test/blue-green.suite.js';

describe('Blue-green consumer versions on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  blueGreenSuite(() => database);
});
