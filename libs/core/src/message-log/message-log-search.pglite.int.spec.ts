import { pgliteDatabase } from '../../test/databases.js';
import { messageLogSearchSuite } from '../../test/message-log-search.suite.js';

describe('Message log search and trace on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  messageLogSearchSuite(() => database);
});
