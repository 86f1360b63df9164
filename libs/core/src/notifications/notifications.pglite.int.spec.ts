import { pgliteDatabase } from '../../test/databases.js';
import { notificationsSuite } from '../../test/notifications.suite.js';

describe('Notifications on PGlite (embedded, in process)', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  notificationsSuite(() => database);
});
