import { postgresDatabase } from '../../test/databases.js';
import { documentsForgetsSuite } from '../../test/documents-forgets.suite.js';

describe('Documents following recorded forgets on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());
  documentsForgetsSuite(() => database);
});
