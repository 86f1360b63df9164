import { postgresDatabase } from '../../test/databases.js';
import { blueGreenSuite } from '../../test/blue-green.suite.js';

describe('Blue-green consumer versions on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  // The scale: a rebuild over 100,000 events, on the real server.
  blueGreenSuite(() => database, { accounts: 100, perAccount: 1000 });
});
