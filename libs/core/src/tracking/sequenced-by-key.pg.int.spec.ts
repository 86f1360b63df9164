import { postgresDatabase } from '../../test/databases.js';
import { sequencedByKeySuite } from '../../test/sequenced-by-key.suite.js';

describe('Consumers sequenced by key on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  sequencedByKeySuite(() => database);
});
