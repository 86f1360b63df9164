import { PgSqlClient } from './postgres/index.js';
import { DATABASE_URL } from '../../test/databases.js';
import { projectionSchemaSuite } from '../../test/projection-schema.suite.js';

describe('Projection schemas on PostgreSQL', () => {
  projectionSchemaSuite(() => ({
    options: { url: DATABASE_URL },
    async dropSchemas(...schemas) {
      const cleanup = PgSqlClient.connect(DATABASE_URL, { max: 1 });
      try {
        for (const schema of schemas)
          await cleanup.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await cleanup.close();
      }
    },
  }));
});
