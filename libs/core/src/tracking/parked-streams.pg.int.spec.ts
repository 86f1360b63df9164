import { postgresDatabase } from '../../test/databases.js';
import { parkedStreamsSuite } from '../../test/parked-streams.suite.js';

describe('Parked streams on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  parkedStreamsSuite(() => database);
});
