import { postgresDatabase } from '../../../test/databases.js';
import { holdLoad } from '../../../test/flow.suite.js';
import { eventually, freshNamespace, NATS_URL } from '../../../test/nats.js';
import { gate, HoldParcel } from '../../../test/shipping.fixture.js';
import { startApp, type TestApp } from '../../../test/transport-apps.js';

const database = postgresDatabase();
afterAll(() => database.close());

function app(
  instance: string,
  namespace: string,
  handlers: boolean,
): Promise<TestApp> {
  return startApp({
    instance,
    client: database.client(),
    handlers,
    chronicle: {
      app: handlers ? 'shipping' : 'shop',
      transport: {
        nats: NATS_URL,
        namespace,
        maxConcurrentHandlers: 2,
        maxQueuedRequests: 1,
      },
    },
  });
}

describe('backpressure with two instances over NATS', () => {
  const opened: TestApp[] = [];
  beforeEach(() => gate.close());
  afterEach(async () => {
    gate.open();
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });

  it('runs at most maxConcurrentHandlers per instance, and what one instance refuses reaches the other', async () => {
    const namespace = freshNamespace();
    const one = await app('one', namespace, true);
    const two = await app('two', namespace, true);
    const caller = await app('caller', namespace, false);
    opened.push(caller, one, two);
    // Each instance takes 2 and keeps 1 waiting: 6 fit in the two, whichever NATS picks first.
    const sent = Array.from({ length: 6 }, (_, i) =>
      caller.gateway.send(new HoldParcel(`p-${i}`), { timeoutMs: 60_000 }),
    );
    await eventually(
      () =>
        [one, two].every(
          (instance) =>
            holdLoad(instance).running === 2 && holdLoad(instance).queued === 1,
        ),
      'both instances are full: two running, one waiting each',
    );
    expect(one.ledger?.mostHeldAtOnce).toBe(2);
    expect(two.ledger?.mostHeldAtOnce).toBe(2);

    gate.open();
    const results = await Promise.all(sent);
    expect([...results].sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => `held p-${i}`),
    );
    expect(one.ledger?.held).toHaveLength(3);
    expect(two.ledger?.held).toHaveLength(3);
    expect(one.ledger?.mostHeldAtOnce).toBe(2);
    expect(two.ledger?.mostHeldAtOnce).toBe(2);
  });
});
