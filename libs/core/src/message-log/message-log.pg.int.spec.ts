import { postgresDatabase } from '../../test/databases.js';
import { messageLogSuite } from '../../test/message-log.suite.js';

describe('Message log on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  messageLogSuite(() => database);
});
