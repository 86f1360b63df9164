import { projectionSchemaSuite } from '../../test/projection-schema.suite.js';

describe('Projection schemas on embedded PGlite', () => {
  // Each app opens its own in-memory database: closing it drops everything.
  projectionSchemaSuite(() => ({
    options: { embedded: true },
    dropSchemas: async () => undefined,
  }));
});
