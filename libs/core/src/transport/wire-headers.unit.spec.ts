import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  InvalidIdError,
  InvalidMetadataError,
  UnstorableTextError,
} from '../messages/index.js';
import { checkRequestFits, fittingReply, wireSizeOf } from './payload-size.js';
import {
  MalformedMessageError,
  ReplyTooLargeError,
  RequestTooLargeError,
} from './transport.errors.js';
import {
  decodeReply,
  decodeRequest,
  encodeResult,
  HEADER,
} from './wire-format.js';

const TYPE = 'wire.Ping';
const valid = {
  [HEADER.id]: 'm-1',
  [HEADER.type]: TYPE,
  [HEADER.revision]: '1',
  [HEADER.timestamp]: '2030-01-31T12:00:00.000Z',
  [HEADER.correlationId]: 'c-1',
};

function decodeWith(headers: Record<string, string>, body = '{}') {
  return () => decodeRequest({ headers: { ...valid, ...headers }, body }, TYPE);
}

describe('headers read off the wire', () => {
  it('are read when valid', () => {
    const decoded = decodeWith({
      [HEADER.metadata]: '{"userId":"u-1"}',
      [HEADER.revision]: '2',
    })();
    expect(decoded).toMatchObject({
      id: 'm-1',
      revision: 2,
      metadata: { userId: 'u-1', correlationId: 'c-1' },
    });
    expect(decoded.timestamp.toISOString()).toBe('2030-01-31T12:00:00.000Z');
  });

  it.each([
    ['a JSON string', '"abc"'],
    ['an array', '[1,2]'],
    ['a number', '7'],
    ['null', 'null'],
  ])(
    'refuse Chronicle-Metadata holding %s (it was stored as {"0":"a",...})',
    (_, metadata) => {
      expect(decodeWith({ [HEADER.metadata]: metadata })).toThrow(
        InvalidMetadataError,
      );
    },
  );

  it('refuse Chronicle-Metadata that is not JSON, too large, or carries a correlationId that is not an id', () => {
    expect(decodeWith({ [HEADER.metadata]: 'abc' })).toThrow(
      MalformedMessageError,
    );
    expect(
      decodeWith({
        [HEADER.metadata]: JSON.stringify({ blob: 'x'.repeat(9000) }),
      }),
    ).toThrow(/at most 8192/);
    // A correlation id in the metadata is stored as one: it must be an id.
    expect(
      decodeWith({ [HEADER.metadata]: '{"correlationId":{"nested":true}}' }),
    ).toThrow(InvalidIdError);
    expect(decodeWith({ [HEADER.metadata]: '{"who":"\\u0000"}' })).toThrow(
      UnstorableTextError,
    );
  });

  it.each(['abc', '-1', '0', '1.5', '01', '99999999999', ''])(
    'refuse a revision of %j',
    (revision) => {
      expect(decodeWith({ [HEADER.revision]: revision })).toThrow(
        /Chronicle-Revision header must be a whole number from 1/,
      );
    },
  );

  it.each(['yesterday', '2030-13-45T00:00:00Z', '1700000000000', ''])(
    'refuse a timestamp of %j',
    (timestamp) => {
      expect(decodeWith({ [HEADER.timestamp]: timestamp })).toThrow(
        /Chronicle-Timestamp header must be an ISO 8601 date-time/,
      );
    },
  );

  it('refuse ids and correlation ids with NUL, line breaks or several kilobytes', () => {
    expect(decodeWith({ [HEADER.id]: 'm-\u0000' })).toThrow(InvalidIdError);
    expect(decodeWith({ [HEADER.id]: 'm'.repeat(3000) })).toThrow(
      /at most 256/,
    );
    expect(decodeWith({ [HEADER.correlationId]: 'c\u2028' })).toThrow(
      /Chronicle-Correlation-Id header/,
    );
    expect(decodeWith({ [HEADER.causationId]: '' })).toThrow(/empty/);
    expect(decodeWith({ [HEADER.type]: 'x'.repeat(5000) })).toThrow(
      /\.\.\. \(5000 characters\) was sent on the subject of wire\.Ping/,
    );
  });
});

describe('the size of a message on the wire', () => {
  it('is counted as NATS counts it against max_payload: encoded headers and body', () => {
    const message = {
      headers: { ...valid, [HEADER.metadata]: '{"name":"Zoë 😀"}' },
      body: JSON.stringify({ text: 'héllo 😀' }),
    };
    // NATS's own encoding (its MsgHdrs implementation): if it changes, this fails loudly.
    const h = natsHeaders();
    for (const [key, value] of Object.entries(message.headers))
      h.set(key, value);
    expect(wireSizeOf(message)).toBe(
      (h as unknown as { encode(): Uint8Array }).encode().length +
        Buffer.byteLength(message.body),
    );
  });

  it('refuses a request over the limit before it is sent, naming its type, id, size and limit', () => {
    const message = {
      headers: valid,
      body: JSON.stringify({ blob: 'x'.repeat(2000) }),
    };
    const size = wireSizeOf(message);
    expect(() => checkRequestFits(message, size)).not.toThrow();
    const error = (() => {
      try {
        checkRequestFits(message, size - 1);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RequestTooLargeError);
    expect(error).toMatchObject({
      code: 'REQUEST_TOO_LARGE',
      messageType: TYPE,
      messageId: 'm-1',
      size,
      limit: size - 1,
    });
  });

  it('turns a reply over the limit into REPLY_TOO_LARGE, which the caller reads as ReplyTooLargeError', () => {
    const reply = encodeResult({ rows: 'x'.repeat(5000) });
    expect(fittingReply(reply, undefined, TYPE, 'm-1').reply).toBe(reply);
    const { reply: sent, tooLarge } = fittingReply(reply, 1000, TYPE, 'm-1');
    expect(tooLarge).toBeInstanceOf(ReplyTooLargeError);
    expect(wireSizeOf(sent)).toBeLessThan(1000);
    let error: unknown;
    try {
      decodeReply(sent, TYPE, 'm-1');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReplyTooLargeError);
    expect(error).toMatchObject({
      code: 'REPLY_TOO_LARGE',
      messageType: TYPE,
      messageId: 'm-1',
      size: wireSizeOf(reply),
      limit: 1000,
    });
  });
});
