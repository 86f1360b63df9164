import { postgresDatabase } from '../../core/test/databases.js';
import { consoleSuite } from '../test/console.suite.js';

describe('The web console on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  consoleSuite(() => database);
});
