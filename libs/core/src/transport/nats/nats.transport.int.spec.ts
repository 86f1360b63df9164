import { jest } from '@jest/globals';
import { connect, headers } from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';
import {
  AppendSignal,
  ChronicleHealthIndicator,
  EventStore,
  HEADER,
  newMessageId,
  TransportError,
} from '../../index.js';
import { postgresDatabase } from '../../../test/databases.js';
import {
  eventually,
  freshNamespace,
  NATS_URL,
  OwnNatsServer,
} from '../../../test/nats.js';
import { ShipParcel, SlowParcel } from '../../../test/shipping.fixture.js';
import { startApp, type TestApp } from '../../../test/transport-apps.js';
import { transportSuite } from '../../../test/transport.suite.js';
import { flowSuite, type FlowLimits } from '../../../test/flow.suite.js';
import { freshSchema } from '../../../test/databases.js';
import { secret } from '../../../test/secret-watch.js';

const TOKEN = secret('s3cret');

const database = postgresDatabase();
afterAll(() => database.close());

function app(
  instance: string,
  namespace: string,
  options: {
    handlers?: boolean;
    debug?: boolean;
    app?: string;
    servers?: string;
    enabled?: string[];
    /** Share a store with other apps given the same schema. */
    schema?: string;
    limits?: FlowLimits;
  } = {},
): Promise<TestApp> {
  return startApp({
    instance,
    client: database.client(),
    handlers: options.handlers ?? true,
    schema: options.schema,
    chronicle: {
      app: options.app ?? (options.handlers === false ? 'shop' : 'shipping'),
      enabled: options.enabled,
      transport: {
        nats: { servers: options.servers ?? NATS_URL, reconnectTimeWaitMs: 50 },
        namespace,
        debug: options.debug,
        ...options.limits,
      },
    },
  });
}

describe('two apps over NATS', () => {
  transportSuite(async () => {
    const namespace = freshNamespace();
    // One store, as deployed apps share: sendAndForget is delivered through it.
    const schema = freshSchema('tr');
    const handler = await app('handler', namespace, { schema });
    const caller = await app('caller', namespace, { handlers: false, schema });
    return {
      caller,
      handler,
      async withDebugHandler() {
        await handler.close();
        const debugHandler = await app('handler', namespace, {
          debug: true,
          schema,
        });
        return { caller, close: () => debugHandler.close() };
      },
    };
  });
});

describe('backpressure and deadlines over NATS', () => {
  flowSuite(async (limits) => {
    const namespace = freshNamespace();
    const handler = await app('handler', namespace, { limits });
    const caller = await app('caller', namespace, { handlers: false });
    return {
      caller,
      handler,
      async close() {
        await caller.close();
        await handler.close();
      },
    };
  });
});

describe('NATS routing', () => {
  const opened: TestApp[] = [];
  const open = async (started: Promise<TestApp>) => {
    const a = await started;
    opened.push(a);
    return a;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });

  it("spreads requests over an app's instances (one queue group)", async () => {
    const namespace = freshNamespace();
    const one = await open(app('one', namespace));
    const two = await open(app('two', namespace));
    const caller = await open(app('caller', namespace, { handlers: false }));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        caller.commands.execute(new ShipParcel(`p-${i}`, 1)),
      ),
    );
    const handledBy = new Set(results.map((r) => r.handledBy));
    expect(handledBy).toEqual(new Set(['one', 'two']));
    expect((one.ledger?.shipped ?? 0) + (two.ledger?.shipped ?? 0)).toBe(40);
  });

  it('handles a type served by two different apps once in all (one queue group per type), and warns', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const namespace = freshNamespace();
      const shop = await open(app('shop-1', namespace, { app: 'shop' }));
      const orders = await open(app('orders-1', namespace, { app: 'orders' }));
      const caller = await open(
        app('caller', namespace, { handlers: false, app: 'front' }),
      );
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          caller.commands.execute(new ShipParcel(`p-${i}`, 1)),
        ),
      );
      expect((shop.ledger?.shipped ?? 0) + (orders.ledger?.shipped ?? 0)).toBe(
        30,
      );
      await eventually(
        () =>
          warn.mock.calls.some(([message]) =>
            /ship\.ShipParcel.*(shop.*orders|orders.*shop)/.test(
              String(message),
            ),
          ),
        'a warning names both apps serving ship.ShipParcel',
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('does not warn about two instances of one app serving a type', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const namespace = freshNamespace();
      await open(app('one', namespace));
      await open(app('two', namespace));
      const caller = await open(
        app('caller', namespace, { handlers: false, app: 'front' }),
      );
      // A round trip through both apps' connections: any presence answer has arrived.
      await caller.commands.execute(new ShipParcel('p-1', 1));
      await caller.commands.execute(new ShipParcel('p-2', 1));
      expect(
        warn.mock.calls.filter(([message]) =>
          /served by two apps/.test(String(message)),
        ),
      ).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it('runs the same modules split by start-up setting: a disabled module is reached over NATS', async () => {
    const namespace = freshNamespace();
    // Both apps import ShippingModule; only the second enables it.
    const front = await open(
      app('front', namespace, { app: 'front', enabled: [] }),
    );
    await open(app('back', namespace, { app: 'back', enabled: ['shipping'] }));
    const result = await front.commands.execute(new ShipParcel('p-1', 1));
    expect(result.handledBy).toBe('back');
    expect(front.ledger?.shipped).toBe(0);
  });

  it('answers a malformed message with an error and keeps serving', async () => {
    const namespace = freshNamespace();
    const handler = await open(app('handler', namespace));
    const nc = await connect({ servers: NATS_URL });
    try {
      const subject = `chronicle.${namespace}.command.ship.ShipParcel`;
      const h = headers();
      h.set(HEADER.id, newMessageId());
      h.set(HEADER.type, 'ship.ShipParcel');
      const reply = await nc.request(
        subject,
        new TextEncoder().encode('{not json'),
        {
          timeout: 10_000,
          headers: h,
        },
      );
      expect(reply.headers?.get(HEADER.status)).toBe('error');
      expect(JSON.parse(reply.string())).toMatchObject({
        code: 'MALFORMED_MESSAGE',
      });
    } finally {
      await nc.close();
    }
    const caller = await open(app('caller', namespace, { handlers: false }));
    await expect(
      caller.commands.execute(new ShipParcel('p-1', 1)),
    ).resolves.toMatchObject({
      handledBy: 'handler',
    });
    expect(handler.ledger?.shipped).toBe(1);
  });

  it("ignores a caller's Chronicle-Debug header: no stack, no database text or SQLSTATE", async () => {
    const namespace = freshNamespace();
    await open(app('handler', namespace));
    const nc = await connect({ servers: NATS_URL });
    try {
      const id = newMessageId();
      const h = headers();
      h.set(HEADER.id, id);
      h.set(HEADER.type, 'ship.CrashParcel');
      h.set('Chronicle-Debug', '1');
      const reply = await nc.request(
        `chronicle.${namespace}.command.ship.CrashParcel`,
        new TextEncoder().encode('{"parcelId":"p-1"}'),
        { timeout: 10_000, headers: h },
      );
      expect(reply.headers?.get(HEADER.status)).toBe('error');
      expect(JSON.parse(reply.string())).toEqual({
        name: 'Error',
        code: 'HANDLER_FAILED',
        message: `Handler of ship.CrashParcel failed; see the log of app "shipping" for message ${id}.`,
      });
    } finally {
      await nc.close();
    }
  });

  it('drains on close: requests already in flight are answered', async () => {
    const namespace = freshNamespace();
    const handler = await app('handler', namespace);
    const caller = await open(app('caller', namespace, { handlers: false }));
    const inFlight = Array.from({ length: 10 }, (_, i) =>
      caller.commands.execute(new SlowParcel(`p-${i}`, 300)),
    );
    await eventually(
      () => handler.ledger?.slowStarted === 10,
      'all ten reached the handler',
    );
    await handler.close();
    const results = await Promise.all(inFlight);
    expect(results).toEqual(
      Array.from({ length: 10 }, (_, i) => `shipped p-${i}`),
    );
  });

  it("relays the store's wake-up to the other apps", async () => {
    const namespace = freshNamespace();
    const writer = await open(app('writer', namespace));
    const reader = await open(app('reader', namespace, { handlers: false }));
    let woken = 0;
    reader.app.get(AppendSignal).subscribe(() => woken++);
    await writer.app.get(EventStore).append('s-1', [
      {
        id: newMessageId(),
        type: 't.E',
        revision: 1,
        payload: {},
        metadata: { correlationId: 'c' },
        timestamp: new Date(),
      },
    ]);
    await eventually(() => woken > 0, 'the reader app was woken');
  });

  it('reports the connection in its health indicator', async () => {
    const handler = await open(app('handler', freshNamespace()));
    const health = handler.app.get(ChronicleHealthIndicator);
    expect(health.checkTransport('nats')).toMatchObject({
      nats: { status: 'up', kind: 'nats' },
    });
    await expect(health.checkDatabase()).resolves.toMatchObject({
      database: { status: 'up', driver: 'pg' },
    });
  });
});

describe('NATS connection faults (a nats-server of our own)', () => {
  let server: OwnNatsServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('fails fast while disconnected, reconnects by itself, and serves again', async () => {
    server = await OwnNatsServer.start();
    const namespace = freshNamespace();
    const handler = await app('handler', namespace, { servers: server.url });
    const caller = await app('caller', namespace, {
      handlers: false,
      servers: server.url,
    });
    const health = caller.app.get(ChronicleHealthIndicator);
    try {
      await expect(
        caller.commands.execute(new ShipParcel('p-1', 1)),
      ).resolves.toBeDefined();

      await server.stop();
      await eventually(
        () => health.checkTransport().transport.status === 'down',
        'the caller noticed the disconnect',
      );
      await expect(
        caller.commands.execute(new ShipParcel('p-2', 1)),
      ).rejects.toBeInstanceOf(TransportError);

      await server.resume();
      await eventually(
        () => health.checkTransport().transport.status === 'up',
        'the caller reconnected',
      );
      await eventually(async () => {
        // The handler re-subscribes on its own reconnect; until then: no responders.
        const result = await caller.commands
          .execute(new ShipParcel('p-3', 1))
          .catch(() => undefined);
        return result?.handledBy === 'handler';
      }, 'the handler served again');
      expect(
        health.checkTransport().transport.reconnects,
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await caller.close();
      await handler.close();
    }
  });

  it('refuses to start with a wrong token, and connects with the right one', async () => {
    server = await OwnNatsServer.start({ token: TOKEN });
    const withToken = (token: string) =>
      startApp({
        instance: 'x',
        client: database.client(),
        handlers: false,
        chronicle: {
          app: 'shop',
          transport: {
            nats: { servers: server?.url, token },
            namespace: freshNamespace(),
          },
        },
      });
    const error = await withToken('wrong').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toMatch(/Authorization|authorization/);
    const good = await withToken(TOKEN);
    expect(
      good.app.get(ChronicleHealthIndicator).checkTransport().transport.status,
    ).toBe('up');
    await good.close();
  });
});
