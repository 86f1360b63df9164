import { postgresDatabase } from '../../../test/databases.js';
import { snapshotsSuite } from '../../../test/snapshots.suite.js';

describe('Snapshots on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  snapshotsSuite(() => database);
});
