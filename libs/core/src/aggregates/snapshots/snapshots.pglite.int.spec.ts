import { pgliteDatabase } from '../../../test/databases.js';
import { snapshotsSuite } from '../../../test/snapshots.suite.js';

describe('Snapshots on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  snapshotsSuite(() => database);
});
