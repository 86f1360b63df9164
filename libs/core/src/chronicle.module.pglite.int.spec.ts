import { chronicleModuleSuite } from '../test/chronicle-module.suite.js';
import { pgliteDatabase } from '../test/databases.js';

describe('ChronicleModule on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  chronicleModuleSuite(() => database);
});
