import { postgresDatabase } from '../../../test/databases.js';
import { rebaseSuite } from '../../../test/rebase.suite.js';

describe('Re-basing transaction ids on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  rebaseSuite(() => database);
});
