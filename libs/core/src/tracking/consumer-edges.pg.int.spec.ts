import { postgresDatabase } from '../../test/databases.js';
import { consumerEdgesSuite } from '../../test/consumer-edges.suite.js';

describe('Consumers at the edges, on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  consumerEdgesSuite(() => database);
});
