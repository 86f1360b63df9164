import { postgresDatabase } from '../../test/databases.js';
import { projectionTablesSuite } from '../../test/projection-tables.suite.js';

describe("Consumers' declared tables on PostgreSQL", () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  projectionTablesSuite(() => database);
});
