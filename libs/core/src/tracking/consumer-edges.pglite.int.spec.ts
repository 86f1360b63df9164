import { pgliteDatabase } from '../../test/databases.js';
import { consumerEdgesSuite } from '../../test/consumer-edges.suite.js';

describe('Consumers at the edges, on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  consumerEdgesSuite(() => database);
});
