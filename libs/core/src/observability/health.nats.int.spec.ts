import { ChronicleHealthIndicator, Transport } from '../index.js';
import { postgresDatabase } from '../../test/databases.js';
import { eventually, freshNamespace, OwnNatsServer } from '../../test/nats.js';
import { startApp, type TestApp } from '../../test/transport-apps.js';

// Liveness and readiness through NATS faults, on a nats-server of the test's
// own: a connection that is reconnecting makes the app unready, never dead.

const database = postgresDatabase();
afterAll(() => database.close());

let server: OwnNatsServer | undefined;
const opened: TestApp[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
  await server?.stop();
  server = undefined;
});

async function app(
  transport: 'nats' | 'local',
): Promise<{ started: TestApp; health: ChronicleHealthIndicator }> {
  const started = await startApp({
    instance: 'x',
    client: database.client(),
    handlers: true,
    chronicle: {
      app: 'shipping',
      transport:
        transport === 'nats'
          ? {
              nats: { servers: server?.url, reconnectTimeWaitMs: 50 },
              namespace: freshNamespace(),
            }
          : { local: true },
    },
  });
  opened.push(started);
  return { started, health: started.app.get(ChronicleHealthIndicator) };
}

const statuses = (result: Record<string, { status: string }>) =>
  Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.status]));

describe('liveness and readiness', () => {
  it('stays live but turns unready while NATS is away, and ready again when it is back', async () => {
    server = await OwnNatsServer.start();
    const { health } = await app('nats');
    expect(statuses(await health.checkReadiness())).toEqual({
      transport: 'up',
      database: 'up',
      consumers: 'up',
    });

    await server.stop();
    await eventually(
      () => health.checkTransport().transport.status === 'down',
      'the disconnect was noticed',
    );
    expect(health.checkLiveness()).toEqual({
      liveness: { status: 'up', eventLoopDelayMs: expect.any(Number) },
    });
    expect(statuses(await health.checkReadiness())).toEqual({
      transport: 'down',
      database: 'up',
      consumers: 'up',
    });

    await server.resume();
    await eventually(
      async () => (await health.checkReadiness()).transport.status === 'up',
      'ready again after the reconnect',
    );
    expect(health.checkLiveness().liveness.status).toBe('up');
  });

  it('goes down on liveness only when the NATS connection is closed for good', async () => {
    server = await OwnNatsServer.start();
    const { started, health } = await app('nats');
    expect(health.checkLiveness().liveness.status).toBe('up');
    await started.app.get(Transport).close();
    expect(health.checkLiveness()).toEqual({
      liveness: {
        status: 'down',
        eventLoopDelayMs: expect.any(Number),
        reason:
          'The NATS connection is closed and will not reconnect: restart the app.',
      },
    });
  });

  it('is live and ready in process, with the event loop delay in the details', async () => {
    const { health } = await app('local');
    const liveness = health.checkLiveness().liveness;
    expect(liveness.status).toBe('up');
    expect(liveness.eventLoopDelayMs).toBeGreaterThanOrEqual(0);
    expect(await health.checkReadiness()).toMatchObject({
      transport: { status: 'up', kind: 'local' },
      database: { status: 'up', driver: 'pg' },
      consumers: { status: 'up', degraded: false },
    });
  });
});
