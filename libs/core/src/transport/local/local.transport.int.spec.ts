import { pgliteDatabase } from '../../../test/databases.js';
import { flowSuite } from '../../../test/flow.suite.js';
import { transportSuite } from '../../../test/transport.suite.js';
import { startApp } from '../../../test/transport-apps.js';

// One embedded app whose messages are forced onto the in-process transport:
// the same wire format and error mapping as NATS, without a server.
describe('routing over the local transport', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());

  const single = (debug: boolean) =>
    startApp({
      instance: 'handler',
      client: database.client(),
      handlers: true,
      chronicle: {
        app: 'shipping',
        transport: { local: true, routing: 'remote', debug },
      },
    });

  transportSuite(async () => {
    const app = await single(false);
    return {
      caller: app,
      handler: app,
      async withDebugHandler() {
        const debugApp = await single(true);
        return { caller: debugApp, close: () => debugApp.close() };
      },
    };
  });
});

describe('backpressure and deadlines on the local transport', () => {
  const database = pgliteDatabase();
  afterAll(() => database.close());

  flowSuite(async (limits) => {
    const app = await startApp({
      instance: 'handler',
      client: database.client(),
      handlers: true,
      chronicle: {
        app: 'shipping',
        transport: { local: true, routing: 'remote', ...limits },
      },
    });
    return { caller: app, handler: app, close: () => app.close() };
  });
});
