import { pgliteDatabase } from '../../test/databases.js';
import { sequencedByKeySuite } from '../../test/sequenced-by-key.suite.js';

describe('Consumers sequenced by key on PGlite', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());
  sequencedByKeySuite(() => database);
});
