import { chronicleModuleSuite } from '../test/chronicle-module.suite.js';
import { postgresDatabase } from '../test/databases.js';

describe('ChronicleModule on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  chronicleModuleSuite(() => database);
});
