import {
  EventStore,
  NoHandlerError,
  RemoteHandlerError,
  TimeoutError,
  ValidationError,
} from '../src/index.js';
import { eventually } from './nats.js';
import {
  CountParcels,
  RefuseParcel,
  ShipParcel,
  SlowParcel,
  Unserved,
} from './shipping.fixture.js';
import type { TestApp } from './transport-apps.js';

/** A caller app and a handler app that can only reach each other through the transport. */
export interface TransportPair {
  readonly caller: TestApp;
  readonly handler: TestApp;
  /** Replaces the handler app with one started with `transport.debug`; gives the caller to use. */
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

  it('validates on the receiving side and returns the field details', async () => {
    const error = await pair.caller.commands
      .execute(new ShipParcel('', -1))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations).toEqual([
      {
        field: 'parcelId',
        constraints: { isNotEmpty: 'parcelId should not be empty' },
      },
      {
        field: 'weightKg',
        constraints: { min: 'weightKg must not be less than 0' },
      },
    ]);
    expect(pair.handler.ledger?.shipped).toBe(0);
  });

  it("returns a handler's exception as a typed error with its name, code and message, without its stack", async () => {
    const error = await pair.caller.commands
      .execute(new RefuseParcel('too heavy'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({
      remoteName: 'ParcelRefused',
      code: 'PARCEL_REFUSED',
      message: 'too heavy',
      messageType: 'ship.RefuseParcel',
    });
    expect((error as RemoteHandlerError).remoteStack).toBeUndefined();
  });

  it('includes the remote stack only in debug mode', async () => {
    const debug = await pair.withDebugHandler();
    try {
      const error = await debug.caller.gateway
        .send(new RefuseParcel('no'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteHandlerError);
      expect((error as RemoteHandlerError).remoteStack).toContain(
        'ParcelRefused',
      );
    } finally {
      await debug.close();
    }
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

  it('names the message id in NoHandlerError and RemoteHandlerError', async () => {
    const id = '01J9ZQ3V6G0000000000000042';
    const noHandler = await pair.caller.gateway
      .send(new Unserved(), { id })
      .catch((e: unknown) => e);
    expect(noHandler).toBeInstanceOf(NoHandlerError);
    expect(noHandler).toMatchObject({ messageId: id });
    const refusedId = '01J9ZQ3V6G0000000000000043';
    const refused = await pair.caller.gateway
      .send(new RefuseParcel('no'), { id: refusedId })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RemoteHandlerError);
    expect(refused).toMatchObject({ messageId: refusedId });
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
