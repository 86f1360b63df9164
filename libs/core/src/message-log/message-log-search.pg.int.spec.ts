import { postgresDatabase } from '../../test/databases.js';
import { messageLogSearchSuite } from '../../test/message-log-search.suite.js';

describe('Message log search and trace on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  messageLogSearchSuite(() => database);
});
