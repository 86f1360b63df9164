import { postgresDatabase } from '../../../test/databases.js';
import { groupCommitSuite } from '../../../test/group-commit.suite.js';

describe('Group commit on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  groupCommitSuite(() => database);
});
