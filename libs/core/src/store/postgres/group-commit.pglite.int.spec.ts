import { pgliteDatabase } from '../../../test/databases.js';
import { groupCommitSuite } from '../../../test/group-commit.suite.js';

describe('Group commit on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  groupCommitSuite(() => database);
});
