import { postgresDatabase } from '../../test/databases.js';
import { rehydrateSuite } from '../../test/rehydrate.suite.js';

describe('Rebuilding aggregates and reading streams on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  rehydrateSuite(() => database);
});
