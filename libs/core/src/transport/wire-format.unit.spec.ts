import {
  createEnvelope,
  CommandType,
  payloadOf,
  ValidationError,
} from '../messages/index.js';
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

describe('the wire format', () => {
  it('carries an envelope in headers and its payload as JSON, and reads it back', () => {
    const parent = createEnvelope(new ShipParcel('p-0', 1), 'command', {
      metadata: { userId: 'u-1', traceparent: '00-abc-def-01' },
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
      [HEADER.traceparent]: '00-abc-def-01',
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
        traceparent: '00-abc-def-01',
      },
    });
    expect(decoded.timestamp.toISOString()).toBe(
      envelope.timestamp.toISOString(),
    );
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

  it('turns a handler error into a typed error with name, code and message, without the stack', () => {
    const reply = encodeError(new OutOfStock('no parcels left'), false);
    const error = catchError(() => decodeReply(reply, 'wire.ShipParcel'));
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({
      remoteName: 'OutOfStock',
      code: 'OUT_OF_STOCK',
      message: 'no parcels left',
      messageType: 'wire.ShipParcel',
      remoteStack: undefined,
    });
    class NamelessRule extends Error {}
    const nameless = encodeError(new NamelessRule('x'), false);
    expect(catchError(() => decodeReply(nameless, 't'))).toMatchObject({
      remoteName: 'NamelessRule',
    });
    const plain = catchError(() =>
      decodeReply(encodeError(new Error('boom'), true), 't'),
    );
    expect(plain).toMatchObject({
      code: 'HANDLER_FAILED',
      remoteName: 'Error',
    });
    expect((plain as RemoteHandlerError).remoteStack).toContain('boom');
  });

  it('rebuilds a ValidationError with its field details', () => {
    const original = new ValidationError('wire.ShipParcel', [
      {
        field: 'weightKg',
        constraints: { min: 'weightKg must not be less than 0' },
      },
    ]);
    const error = catchError(() =>
      decodeReply(encodeError(original, false), 'x'),
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
