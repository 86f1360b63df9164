import { headers as natsHeaders } from '@nats-io/transport-node';
import { wireSizeOf } from '../payload-size.js';
import { TransportError } from '../transport.errors.js';
import { EncodedHeaders } from './nats-headers.js';

const decoder = new TextDecoder();

describe('EncodedHeaders', () => {
  const values = {
    'Chronicle-Message-Id': '01J9ZQ3V6G0000000000000001',
    'Chronicle-Type': 'shipping.ShipParcel',
    'Chronicle-Metadata': '{"tenant":"a b","note":"x\\ny"}',
  };

  it('writes the bytes the NATS client writes for the same headers', () => {
    const theirs = natsHeaders();
    for (const [key, value] of Object.entries(values)) theirs.set(key, value);
    const ours = new EncodedHeaders(values);
    expect(decoder.decode(ours.encode())).toBe(theirs.toString());
    expect(ours.size).toBe(ours.encode().length);
  });

  it('is as large as wireSizeOf counts headers (the size checked against max_payload)', () => {
    const body = JSON.stringify({ note: 'é€😀' });
    expect(
      new EncodedHeaders(values).size + new TextEncoder().encode(body).length,
    ).toBe(wireSizeOf({ headers: values, body }));
  });

  it('reads as MsgHdrs', () => {
    const ours = new EncodedHeaders(values);
    expect(ours.get('Chronicle-Type')).toBe('shipping.ShipParcel');
    expect(ours.has('Chronicle-Message-Id')).toBe(true);
    expect(ours.keys()).toEqual(Object.keys(values));
    expect([...ours].map(([key]) => key)).toEqual(Object.keys(values));
    expect(() => ours.set('Chronicle-Type', 'other')).toThrow(TypeError);
  });

  it('refuses a value with a line break, which would forge another header', () => {
    for (const breaking of ['a\r\nChronicle-Status: ok', 'a\nb', 'a\rb']) {
      expect(() => new EncodedHeaders({ 'Chronicle-Type': breaking })).toThrow(
        TransportError,
      );
    }
  });

  it('refuses a name NATS cannot carry', () => {
    for (const name of ['Bad:Name', 'Bad Name', '', 'Bad\r\nName']) {
      expect(() => new EncodedHeaders({ [name]: 'x' })).toThrow(TransportError);
    }
  });
});
