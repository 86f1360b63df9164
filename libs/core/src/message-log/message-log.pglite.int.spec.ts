import { pgliteDatabase } from '../../test/databases.js';
import { messageLogSuite } from '../../test/message-log.suite.js';

describe('Message log on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  messageLogSuite(() => database);
});
