import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import {
  decodeReply,
  encodeRequest,
  EventStore,
  messageSubject,
  newMessageId,
  NoHandlerError,
  RemoteHandlerError,
  TimeoutError,
  Transport,
  TRANSPORT_OPTIONS,
  ValidationError,
  type ResolvedTransportOptions,
  type WireMessage,
} from '../src/index.js';
import { eventually } from './nats.js';
import {
  CountParcels,
  CrashParcel,
  ParcelRefused,
  RefuseParcel,
  ShipParcel,
  SlowParcel,
  StampParcel,
  Unserved,
  UnservedParcel,
} from './shipping.fixture.js';
import type { TestApp } from './transport-apps.js';

type LogLine = [level: string, message: string, ...rest: unknown[]];

/** What Nest's loggers write while a test runs; `about(id)` keeps the lines naming a message. */
export function captureLogs() {
  const lines: LogLine[] = [];
  const spies = (['log', 'warn', 'error'] as const).map((level) =>
    jest
      .spyOn(Logger.prototype, level)
      .mockImplementation((message: unknown, ...rest: unknown[]) => {
        lines.push([level, String(message), ...rest]);
      }),
  );
  return {
    about: (id: string) => lines.filter(([, message]) => message.includes(id)),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

/** A request as a sender without the message's class writes it (`chronicle send`, another language). */
export async function sendRaw(
  app: TestApp,
  type: string,
  id: string,
  payload: Record<string, unknown>,
): Promise<WireMessage> {
  const { namespace } =
    app.app.get<ResolvedTransportOptions>(TRANSPORT_OPTIONS);
  const wire = encodeRequest(
    {
      id,
      type,
      revision: 1,
      payload,
      metadata: { correlationId: id },
      timestamp: new Date(),
    },
    payload,
  );
  return app.app
    .get(Transport)
    .request(messageSubject(namespace, 'command', type), wire, {
      timeoutMs: 10_000,
      messageType: type,
    });
}

function catchSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

/** A caller app and a handler app that can only reach each other through the transport. */
export interface TransportPair {
  readonly caller: TestApp;
  readonly handler: TestApp;
  /** Replaces the handler app with one started with `transport.debug` (its own option); gives the caller to use. */
  withDebugHandler(): Promise<{ caller: TestApp; close(): Promise<void> }>;
}

/** What a caller relies on when its handlers live elsewhere: the same on every transport. */
export function transportSuite(start: () => Promise<TransportPair>): void {
  let pair: TransportPair;

  beforeEach(async () => {
    pair = await start();
  });

  afterEach(async () => {
    await pair.caller.close();
    await pair.handler.close();
  });

  it('sends a command to the handler in the other app and returns its typed result', async () => {
    const result = await pair.caller.commands.execute(new ShipParcel('p-1', 2));
    expect(result).toEqual({ parcelId: 'p-1', handledBy: 'handler' });
    expect(pair.handler.ledger?.shipped).toBe(1);
  });

  it('asks a query in the other app', async () => {
    await pair.caller.commands.execute(new ShipParcel('p-1', 2));
    expect(await pair.caller.queries.execute(new CountParcels())).toEqual({
      shipped: 1,
      handledBy: 'handler',
    });
  });

  const violations = [
    {
      field: 'parcelId',
      constraints: { isNotEmpty: 'parcelId should not be empty' },
    },
    {
      field: 'weightKg',
      constraints: { min: 'weightKg must not be less than 0' },
    },
  ];

  it('validates on the sending side and returns the field details', async () => {
    const error = await pair.caller.commands
      .execute(new ShipParcel('', -1))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations).toEqual(violations);
    expect(pair.handler.ledger?.shipped).toBe(0);
  });

  it('fails an invalid command with ValidationError even when no app serves its type', async () => {
    const error = await pair.caller.gateway
      .send(new UnservedParcel(''), { timeoutMs: 60_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      messageType: 'ship.UnservedParcel',
      violations: [
        {
          field: 'parcelId',
          constraints: { isNotEmpty: 'parcelId should not be empty' },
        },
      ],
    });
    // Fire-and-forget fails fast too, rather than being lost.
    await expect(
      pair.caller.gateway.sendAndForget(new UnservedParcel('')),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('validates on the serving side too (a sender without the class), with the same error, and logs it there', async () => {
    const logs = captureLogs();
    try {
      const id = newMessageId();
      const reply = await sendRaw(pair.caller, 'ship.ShipParcel', id, {
        parcelId: '',
        weightKg: -1,
      });
      const error = catchSync(() => decodeReply(reply, 'ship.ShipParcel', id));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).violations).toEqual(violations);
      expect(logs.about(id)).toEqual([
        [
          'warn',
          `ship.ShipParcel message ${id} (correlation ${id}) failed: ValidationError (VALIDATION_FAILED): ${(error as Error).message}`,
        ],
      ]);
      expect(pair.handler.ledger?.shipped).toBe(0);
    } finally {
      logs.restore();
    }
  });

  it('rebuilds a declared domain error as its class with its fields, and logs it once as an outcome, not a failure', async () => {
    const logs = captureLogs();
    try {
      const id = newMessageId();
      const error = await pair.caller.gateway
        .send(new RefuseParcel('too heavy'), { id })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ParcelRefused);
      expect(error).toMatchObject({
        code: 'PARCEL_REFUSED',
        message: 'too heavy',
        reason: 'too heavy',
        // Fields travel as JSON.
        refusedAt: '2030-01-02T03:04:05.000Z',
      });
      expect(logs.about(id)).toEqual([
        [
          'log',
          `ship.RefuseParcel message ${id} (correlation ${id}) was refused: ship.ParcelRefused: too heavy`,
        ],
      ]);
    } finally {
      logs.restore();
    }
  });

  it('answers an undeclared failure with HANDLER_FAILED and the message id, without its text or SQLSTATE, and logs it in full where it failed', async () => {
    const logs = captureLogs();
    try {
      const id = newMessageId();
      const error = await pair.caller.gateway
        .send(new CrashParcel('p-1'), { id })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteHandlerError);
      expect(error).toMatchObject({
        code: 'HANDLER_FAILED',
        remoteName: 'Error',
        messageId: id,
        messageType: 'ship.CrashParcel',
        message: `Handler of ship.CrashParcel failed; see the log of app "shipping" for message ${id}.`,
      });
      expect((error as RemoteHandlerError).remoteStack).toBeUndefined();
      expect(JSON.stringify({ ...(error as object) })).not.toMatch(
        /no_such_parcel_table|42P01/,
      );
      const logged = logs.about(id);
      expect(logged).toHaveLength(1);
      const [level, message, stack] = logged[0];
      expect(level).toBe('error');
      expect(message).toContain(
        `ship.CrashParcel message ${id} (correlation ${id}) failed in its handler`,
      );
      expect(message).toContain('no_such_parcel_table');
      expect(stack).toEqual(expect.stringContaining('\n    at '));
    } finally {
      logs.restore();
    }
  });

  it("includes the remote stack only when the serving app's debug option is on", async () => {
    const plain = await pair.caller.gateway
      .send(new CrashParcel('p-1'))
      .catch((e: unknown) => e);
    expect((plain as RemoteHandlerError).remoteStack).toBeUndefined();
    const debug = await pair.withDebugHandler();
    try {
      const error = await debug.caller.gateway
        .send(new CrashParcel('p-2'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteHandlerError);
      expect((error as RemoteHandlerError).remoteStack).toContain(
        'no_such_parcel_table',
      );
    } finally {
      await debug.close();
    }
  });

  it('returns a repeat of a command in the shape of the first call', async () => {
    const id = newMessageId();
    const first = await pair.caller.gateway.send(new StampParcel('p-3'), {
      id,
    });
    const again = await pair.caller.gateway.send(new StampParcel('p-3'), {
      id,
    });
    expect(first).toEqual({
      parcelId: 'p-3',
      stampedAt: '2030-01-02T03:04:05.000Z',
    });
    expect(again).toEqual(first);
  });

  it('fails with NoHandlerError when no app serves the type, without waiting for the timeout', async () => {
    // With a 60 s timeout, a wait would fail this test by Jest's own timeout.
    await expect(
      pair.caller.gateway.send(new Unserved(), { timeoutMs: 60_000 }),
    ).rejects.toBeInstanceOf(NoHandlerError);
  });

  it('fails with TimeoutError after a per-call timeout', async () => {
    const error = await pair.caller.gateway
      .send(new SlowParcel('p-9', 1_000), { timeoutMs: 50 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({
      messageType: 'ship.SlowParcel',
      timeoutMs: 50,
    });
    await eventually(
      () => pair.handler.ledger?.slowFinished === 1,
      'the slow handler finished',
    );
  });

  it('names the message id in TimeoutError: resending with it, or executing the same instance again, runs the handler once', async () => {
    const command = new SlowParcel('p-7', 600);
    const error = await pair.caller.gateway
      .send(command, { timeoutMs: 50 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    const { messageId } = error as TimeoutError;
    expect(messageId).toEqual(expect.any(String));
    expect((error as Error).message).toContain(messageId);
    // Finished: its outcome is recorded (the ledger counts before the commit).
    const store = pair.handler.app.get(EventStore);
    await eventually(
      async () => (await store.findHandledCommand(messageId)) !== undefined,
      'the first send finished',
    );

    const resent = await pair.caller.gateway.send(new SlowParcel('p-7', 600), {
      id: messageId,
    });
    const again = await pair.caller.commands.execute(command);
    expect(resent).toBe('shipped p-7');
    expect(again).toBe('shipped p-7');
    expect(pair.handler.ledger?.slowStarted).toBe(1);
  });

  it('names the message id in NoHandlerError and RemoteHandlerError; a declared error is its own class', async () => {
    const id = '01J9ZQ3V6G0000000000000042';
    const noHandler = await pair.caller.gateway
      .send(new Unserved(), { id })
      .catch((e: unknown) => e);
    expect(noHandler).toBeInstanceOf(NoHandlerError);
    expect(noHandler).toMatchObject({ messageId: id });
    const refused = await pair.caller.gateway
      .send(new RefuseParcel('no'))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ParcelRefused);
    const crashedId = '01J9ZQ3V6G0000000000000044';
    const crashed = await pair.caller.gateway
      .send(new CrashParcel('p-4'), { id: crashedId })
      .catch((e: unknown) => e);
    expect(crashed).toBeInstanceOf(RemoteHandlerError);
    expect(crashed).toMatchObject({ messageId: crashedId });
  });

  it('sends and forgets: resolves before the handler is done, and the handler still runs', async () => {
    await pair.caller.gateway.sendAndForget(new SlowParcel('p-5', 200));
    expect(pair.handler.ledger?.slowFinished).toBe(0);
    await eventually(
      () => pair.handler.ledger?.slowFinished === 1,
      'the handler ran',
    );
  });

  it('handles a command sent twice with the same id once', async () => {
    const id = '01J9ZQ3V6G0000000000000000';
    const first = await pair.caller.gateway.send(new ShipParcel('p-2', 1), {
      id,
    });
    const again = await pair.caller.gateway.send(new ShipParcel('p-2', 1), {
      id,
    });
    expect(again).toEqual(first);
    expect(pair.handler.ledger?.shipped).toBe(1);
  });
}
