import { commandLookupsSuite } from '../../../test/command-lookups.suite.js';
import { postgresDatabase } from '../../../test/databases.js';

describe('Command record lookups on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  commandLookupsSuite(() => database);
});
