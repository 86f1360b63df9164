import { postgresDatabase } from '../../test/databases.js';
import { notificationsSuite } from '../../test/notifications.suite.js';

describe('Notifications on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  notificationsSuite(() => database);
});
