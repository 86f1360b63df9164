import { appendEdgesSuite } from '../../../test/append-edges.suite.js';
import { postgresDatabase } from '../../../test/databases.js';

describe('Appends at the edges on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  appendEdgesSuite(() => database);
});
