import { pgliteDatabase } from '../../test/databases.js';
import { sendAndForgetSuite } from '../../test/send-and-forget.suite.js';
import { startApp } from '../../test/transport-apps.js';

// Embedded: apps of one process on one PGlite database, each with its own
// in-process transport; what a sender stores, a handling app delivers.
describe('sendAndForget, embedded', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());

  sendAndForgetSuite(({ instance, handlers, schema }) =>
    startApp({
      instance,
      client: database.client(),
      handlers,
      schema,
      chronicle: { app: 'shipping', transport: { local: true } },
    }),
  );
});
