import { postgresDatabase } from '../../test/databases.js';
import { freshNamespace, NATS_URL } from '../../test/nats.js';
import { sendAndForgetSuite } from '../../test/send-and-forget.suite.js';
import { startApp } from '../../test/transport-apps.js';

// Apps on one PostgreSQL store, talking over NATS.
describe('sendAndForget, on PostgreSQL with NATS', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());

  let namespace = freshNamespace();
  beforeEach(() => {
    namespace = freshNamespace();
  });

  sendAndForgetSuite(({ instance, handlers, schema }) =>
    startApp({
      instance,
      client: database.client(),
      handlers,
      schema,
      chronicle: {
        app: handlers ? 'shipping' : 'shop',
        transport: { nats: NATS_URL, namespace },
      },
    }),
  );
});
