import { postgresDatabase } from '../../test/databases.js';
import { errorMessagesSuite } from '../../test/error-messages.suite.js';

describe('Errors as messages on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  errorMessagesSuite(() => database);
});
