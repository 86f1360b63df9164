import { pgliteDatabase } from '../../test/databases.js';
import { projectionTablesSuite } from '../../test/projection-tables.suite.js';

describe("Consumers' declared tables on PGlite", () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  projectionTablesSuite(() => database);
});
