import {
  ChronicleError,
  createEnvelope,
  CommandType,
  ErrorType,
  payloadOf,
  ValidationError,
} from '../messages/index.js';
import { ConcurrencyError, DatabaseUnavailableError } from '../store/index.js';
import { MessageContext } from '../messages/index.js';
import {
  decodeReply,
  decodeRequest,
  encodeError,
  encodeRequest,
  encodeResult,
  HEADER,
} from './wire-format.js';
import {
  MalformedMessageError,
  RemoteHandlerError,
} from './transport.errors.js';

@CommandType('wire.ShipParcel')
class ShipParcel {
  constructor(
    readonly parcelId: string,
    readonly weightKg: number,
  ) {}
}

class OutOfStock extends Error {
  readonly code = 'OUT_OF_STOCK';
  override name = 'OutOfStock';
}

@ErrorType('wire.ParcelTooHeavy')
class ParcelTooHeavy extends ChronicleError {
  readonly code = 'PARCEL_TOO_HEAVY';

  constructor(
    readonly parcelId: string,
    readonly weightKg: number,
    readonly weighedAt: Date,
  ) {
    super(`Parcel ${parcelId} weighs ${weightKg} kg; the limit is 30 kg`);
  }

  overBy(): number {
    return this.weightKg - 30;
  }
}

@ErrorType('wire.NoRoute')
class NoRoute extends Error {
  constructor(readonly destination: string) {
    super(`No route to ${destination}`);
  }
}

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const STATE = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';

describe('the wire format', () => {
  it('carries an envelope in headers and its payload as JSON, and reads it back', () => {
    const parent = createEnvelope(new ShipParcel('p-0', 1), 'command', {
      metadata: { userId: 'u-1', traceparent: TRACEPARENT, tracestate: STATE },
    });
    const envelope = MessageContext.run(parent, () =>
      createEnvelope(new ShipParcel('p-1', 2.5), 'command'),
    );
    const wire = encodeRequest(envelope, payloadOf(envelope));
    expect(wire.headers).toMatchObject({
      [HEADER.id]: envelope.id,
      [HEADER.type]: 'wire.ShipParcel',
      [HEADER.revision]: '1',
      [HEADER.correlationId]: parent.id,
      [HEADER.causationId]: parent.id,
      [HEADER.traceparent]: TRACEPARENT,
      [HEADER.tracestate]: STATE,
      [HEADER.metadata]: JSON.stringify({ userId: 'u-1' }),
    });
    expect(JSON.parse(wire.body)).toEqual({ parcelId: 'p-1', weightKg: 2.5 });

    const decoded = decodeRequest(wire, 'wire.ShipParcel');
    expect(decoded).toMatchObject({
      id: envelope.id,
      type: 'wire.ShipParcel',
      revision: 1,
      payload: { parcelId: 'p-1', weightKg: 2.5 },
      metadata: {
        userId: 'u-1',
        correlationId: parent.id,
        causationId: parent.id,
        traceparent: TRACEPARENT,
        tracestate: STATE,
      },
    });
    expect(decoded.timestamp.toISOString()).toBe(
      envelope.timestamp.toISOString(),
    );
  });

  it("names the sending app for the serving app's log, and drops a name that is not a plain token", () => {
    const envelope = createEnvelope(new ShipParcel('p-2', 1), 'command');
    const wire = encodeRequest(envelope, payloadOf(envelope), { app: 'shop' });
    expect(wire.headers[HEADER.app]).toBe('shop');
    expect(decodeRequest(wire, 'wire.ShipParcel').senderApp).toBe('shop');
    const odd = {
      ...wire,
      headers: { ...wire.headers, [HEADER.app]: 'shop; DROP TABLE x' },
    };
    expect(decodeRequest(odd, 'wire.ShipParcel').senderApp).toBeUndefined();
    const none = encodeRequest(envelope, payloadOf(envelope));
    expect(none.headers[HEADER.app]).toBeUndefined();
    expect(decodeRequest(none, 'wire.ShipParcel').senderApp).toBeUndefined();
  });

  it("carries the user's metadata whatever its keys, and no metadata header when there is none", () => {
    const plain = createEnvelope(new ShipParcel('p-2', 1), 'command');
    expect(encodeRequest(plain, payloadOf(plain)).headers).not.toHaveProperty(
      HEADER.metadata,
    );
    const odd = createEnvelope(new ShipParcel('p-3', 1), 'command', {
      metadata: { toString: 'x', constructor: 'y', correlationId: 'c-1' },
    });
    const wire = encodeRequest(odd, payloadOf(odd));
    expect(JSON.parse(wire.headers[HEADER.metadata])).toEqual({
      toString: 'x',
      constructor: 'y',
    });
    expect(wire.headers[HEADER.correlationId]).toBe('c-1');
  });

  it('refuses a traceparent header that is not W3C trace context, typed, naming the header', () => {
    const headers = { [HEADER.id]: 'm-1', [HEADER.type]: 'wire.ShipParcel' };
    for (const traceparent of [
      'garbage',
      '00-abc-def-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      `${TRACEPARENT}\r\nX-Evil: 1`,
    ]) {
      expect(() =>
        decodeRequest(
          {
            headers: { ...headers, [HEADER.traceparent]: traceparent },
            body: '{}',
          },
          'wire.ShipParcel',
        ),
      ).toThrow(MalformedMessageError);
    }
    expect(() =>
      decodeRequest(
        { headers: { ...headers, [HEADER.traceparent]: 'x' }, body: '{}' },
        'wire.ShipParcel',
      ),
    ).toThrow(/traceparent header is not W3C trace context/);
  });

  it('refuses a malformed request, saying what is wrong', () => {
    const headers = { [HEADER.id]: 'm-1', [HEADER.type]: 'wire.ShipParcel' };
    expect(() =>
      decodeRequest({ headers, body: '{oops' }, 'wire.ShipParcel'),
    ).toThrow(MalformedMessageError);
    expect(() =>
      decodeRequest({ headers, body: '[1]' }, 'wire.ShipParcel'),
    ).toThrow(/JSON object/);
    expect(() =>
      decodeRequest({ headers: {}, body: '{}' }, 'wire.ShipParcel'),
    ).toThrow(/Chronicle-Message-Id/);
    expect(() => decodeRequest({ headers, body: '{}' }, 'wire.Other')).toThrow(
      /subject of/,
    );
  });

  it('returns results, including undefined', () => {
    expect(decodeReply(encodeResult({ ok: true, n: 3 }), 't')).toEqual({
      ok: true,
      n: 3,
    });
    expect(decodeReply(encodeResult(undefined), 't')).toBeUndefined();
    expect(decodeReply(encodeResult(null), 't')).toBeNull();
  });

  const served = {
    messageType: 'wire.ShipParcel',
    messageId: 'm-42',
    app: 'shipping',
    debug: false,
  };

  it('rebuilds a declared error as its class, with its message and fields, without the stack', () => {
    const original = new ParcelTooHeavy(
      'p-1',
      31,
      new Date('2030-01-02T03:04:05Z'),
    );
    const error = catchError(() =>
      decodeReply(encodeError(original, served), 'wire.ShipParcel', 'm-42'),
    );
    expect(error).toBeInstanceOf(ParcelTooHeavy);
    expect(error).toBeInstanceOf(ChronicleError);
    expect(error).toMatchObject({
      name: 'ParcelTooHeavy',
      code: 'PARCEL_TOO_HEAVY',
      message: 'Parcel p-1 weighs 31 kg; the limit is 30 kg',
      parcelId: 'p-1',
      weightKg: 31,
      // Fields travel as JSON: a Date arrives as its ISO string.
      weighedAt: '2030-01-02T03:04:05.000Z',
    });
    expect((error as ParcelTooHeavy).overBy()).toBe(1);
    expect(
      JSON.parse(encodeError(original, served).body).stack,
    ).toBeUndefined();
  });

  it('sends a declared error that is not a ChronicleError with its type name as its code', () => {
    const reply = encodeError(new NoRoute('Mars'), served);
    expect(JSON.parse(reply.body)).toEqual({
      name: 'NoRoute',
      code: 'wire.NoRoute',
      message: 'No route to Mars',
      errorType: 'wire.NoRoute',
      fields: { destination: 'Mars' },
    });
    const error = catchError(() => decodeReply(reply, 'wire.ShipParcel'));
    expect(error).toBeInstanceOf(NoRoute);
    expect(error).toMatchObject({
      destination: 'Mars',
      message: 'No route to Mars',
    });
  });

  it('gives a declared error whose class the caller has not loaded as a RemoteHandlerError with its name, code, message and fields', () => {
    const reply = encodeError(new NoRoute('Mars'), served);
    const body = { ...JSON.parse(reply.body), errorType: 'elsewhere.NoRoute' };
    const error = catchError(() =>
      decodeReply(
        { ...reply, body: JSON.stringify(body) },
        'wire.ShipParcel',
        'm-42',
      ),
    );
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({
      remoteName: 'NoRoute',
      code: 'wire.NoRoute',
      message: 'No route to Mars',
      errorType: 'elsewhere.NoRoute',
      fields: { destination: 'Mars' },
      messageId: 'm-42',
    });
    // Passed on by an app in between, it keeps what it was.
    const onward = JSON.parse(encodeError(error, served).body);
    expect(onward).toMatchObject({
      errorType: 'elsewhere.NoRoute',
      fields: { destination: 'Mars' },
    });
  });

  it('answers an undeclared error with HANDLER_FAILED and the message id, never its text, code or stack', () => {
    const fromTheDatabase = Object.assign(
      new Error(
        'duplicate key value violates unique constraint "accounts_pkey"',
      ),
      { code: '23505', detail: 'Key (id)=(42) already exists.' },
    );
    for (const thrown of [
      fromTheDatabase,
      new OutOfStock('no parcels left'),
      'a string',
    ]) {
      const body = JSON.parse(encodeError(thrown, served).body);
      expect(body).toEqual({
        name: 'Error',
        code: 'HANDLER_FAILED',
        message:
          'Handler of wire.ShipParcel failed; see the log of app "shipping" for message m-42.',
      });
    }
    const error = catchError(() =>
      decodeReply(
        encodeError(fromTheDatabase, served),
        'wire.ShipParcel',
        'm-42',
      ),
    );
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({ code: 'HANDLER_FAILED', messageId: 'm-42' });
    expect((error as RemoteHandlerError).remoteStack).toBeUndefined();
  });

  it("sends the stack only when the serving app's own debug option is on", () => {
    const error = catchError(() =>
      decodeReply(
        encodeError(new Error('boom'), { ...served, debug: true }),
        't',
      ),
    );
    expect(error).toMatchObject({ code: 'HANDLER_FAILED' });
    expect((error as RemoteHandlerError).remoteStack).toContain('boom');
  });

  it("keeps a Chronicle error's name, code and message", () => {
    const conflict = new ConcurrencyError('parcel-p-1', 2, 3);
    const error = catchError(() =>
      decodeReply(encodeError(conflict, served), 'wire.ShipParcel'),
    );
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({
      remoteName: 'ConcurrencyError',
      code: 'CONCURRENCY_CONFLICT',
      message: conflict.message,
    });
  });

  it("keeps DATABASE_UNAVAILABLE's code but not the driver's text", () => {
    const away = new DatabaseUnavailableError(
      new Error('connect ECONNREFUSED 10.1.2.3:5432'),
    );
    const body = JSON.parse(encodeError(away, served).body);
    expect(body.code).toBe('DATABASE_UNAVAILABLE');
    expect(body.message).not.toContain('10.1.2.3');
    expect(body.message).toContain('m-42');
  });

  it('rebuilds a ValidationError with its field details', () => {
    const original = new ValidationError('wire.ShipParcel', [
      {
        field: 'weightKg',
        constraints: { min: 'weightKg must not be less than 0' },
      },
    ]);
    const error = catchError(() =>
      decodeReply(encodeError(original, served), 'x'),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      messageType: 'wire.ShipParcel',
      violations: original.violations,
      message: original.message,
    });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
