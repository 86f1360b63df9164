import { appendEdgesSuite } from '../../../test/append-edges.suite.js';
import { pgliteDatabase } from '../../../test/databases.js';

describe('Appends at the edges on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  appendEdgesSuite(() => database);
});
