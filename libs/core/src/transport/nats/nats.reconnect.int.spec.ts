import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import {
  ChronicleHealthIndicator,
  EventStore,
  InDoubtError,
  NoHandlerError,
  TransportError,
} from '../../index.js';
import { postgresDatabase } from '../../../test/databases.js';
import {
  eventually,
  freshNamespace,
  OwnNatsServer,
} from '../../../test/nats.js';
import { ShipParcel, SlowParcel } from '../../../test/shipping.fixture.js';
import { startApp, type TestApp } from '../../../test/transport-apps.js';
import { secret } from '../../../test/secret-watch.js';

const TOKEN = secret('s3cret');

// Faults of the connection itself, on a nats-server of the test's own (never
// the machine's): it is killed, restarted, and restarted with another token.

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
  instance: string,
  namespace: string,
  options: { handlers: boolean; token?: string },
): Promise<TestApp> {
  const started = await startApp({
    instance,
    client: database.client(),
    handlers: options.handlers,
    chronicle: {
      app: options.handlers ? 'shipping' : 'shop',
      transport: {
        nats: {
          servers: server?.url,
          token: options.token,
          reconnectTimeWaitMs: 50,
        },
        namespace,
      },
    },
  });
  opened.push(started);
  return started;
}

/** Sends until the message gets through: "certainly not sent" errors are safe to retry. */
async function sendUntilServed<T>(send: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await send();
    } catch (error) {
      if (
        !(error instanceof TransportError) &&
        !(error instanceof NoHandlerError)
      )
        throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('NATS reconnects (a nats-server of our own)', () => {
  it('keeps reconnecting through a credential change, logs it once, reports it in health, and serves again', async () => {
    server = await OwnNatsServer.start({ token: TOKEN });
    const namespace = freshNamespace();
    await app('handler', namespace, { handlers: true, token: TOKEN });
    const caller = await app('caller', namespace, {
      handlers: false,
      token: TOKEN,
    });
    const health = caller.app.get(ChronicleHealthIndicator);
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      await caller.commands.execute(new ShipParcel('p-1', 1));

      await server.stop();
      await server.resume({ token: 'rotated' });
      await eventually(
        () =>
          /authorization/i.test(
            String(health.checkTransport().transport.lastError),
          ),
        'health reports the authorization error',
      );
      expect(health.checkTransport().transport).toMatchObject({
        status: 'down',
        disconnectedSince: expect.any(String),
      });
      const notSent = await caller.gateway
        .send(new ShipParcel('p-2', 1), { id: '01J9ZQ3V6G0000000000000099' })
        .catch((error: unknown) => error);
      expect(notSent).toBeInstanceOf(TransportError);
      expect(notSent).toMatchObject({
        messageId: '01J9ZQ3V6G0000000000000099',
      });
      // Many 50 ms attempts, all refused: the client used to give up after two.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const authWarnings = warn.mock.calls.filter(([message]) =>
        /authorization/i.test(String(message)),
      );
      expect(authWarnings.length).toBeGreaterThanOrEqual(1);
      expect(authWarnings.length).toBeLessThanOrEqual(2);

      await server.stop();
      await server.resume({ token: TOKEN });
      await eventually(
        () => health.checkTransport().transport.status === 'up',
        'the caller reconnected with its token',
      );
      const result = await sendUntilServed(() =>
        caller.commands.execute(new ShipParcel('p-3', 1)),
      );
      expect(result.handledBy).toBe('handler');
      // One "reconnected" per app (handler and caller), not one per attempt.
      const reconnected = () =>
        warn.mock.calls.filter(([message]) =>
          /reconnected/i.test(String(message)),
        ).length;
      await eventually(() => reconnected() >= 2, 'both apps said so');
      expect(reconnected()).toBe(2);
    } finally {
      warn.mockRestore();
    }
  });

  it('fails requests in flight at once with InDoubtError when the connection drops; resent with their ids they run once', async () => {
    server = await OwnNatsServer.start();
    const namespace = freshNamespace();
    const handler = await app('handler', namespace, { handlers: true });
    const caller = await app('caller', namespace, { handlers: false });
    const commands = Array.from(
      { length: 5 },
      (_, i) => new SlowParcel(`p-${i}`, 1_000),
    );
    // A 60 s timeout: waiting it out would fail this test by its own 20 s limit.
    const inFlight = commands.map((command) =>
      caller.gateway
        .send(command, { timeoutMs: 60_000 })
        .catch((error: unknown) => error),
    );
    await eventually(
      () => handler.ledger?.slowStarted === commands.length,
      'every command reached the handler',
    );

    await server.stop();
    const errors = await Promise.all(inFlight);
    for (const error of errors) {
      expect(error).toBeInstanceOf(InDoubtError);
      expect(error).not.toBeInstanceOf(TransportError);
      const { messageId, code } = error as InDoubtError;
      expect(code).toBe('IN_DOUBT');
      expect((error as Error).message).toContain(messageId);
    }
    expect(new Set(errors.map((e) => (e as InDoubtError).messageId)).size).toBe(
      commands.length,
    );

    // Finished: each outcome is recorded (the ledger counts before the commit).
    const store = handler.app.get(EventStore);
    await eventually(async () => {
      const found = await Promise.all(
        errors.map((e) =>
          store.findHandledCommand((e as InDoubtError).messageId),
        ),
      );
      return found.every((handled) => handled !== undefined);
    }, 'the handler finished what it had started');
    await server.resume();
    const results = await Promise.all(
      errors.map((error, i) =>
        sendUntilServed(() =>
          caller.gateway.send(new SlowParcel(`p-${i}`, 1_000), {
            id: (error as InDoubtError).messageId,
          }),
        ),
      ),
    );
    expect(results).toEqual(commands.map((c) => `shipped ${c.parcelId}`));
    expect(handler.ledger?.slowStarted).toBe(commands.length);
  }, 20_000);
});
