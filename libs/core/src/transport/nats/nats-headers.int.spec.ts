import {
  connect,
  type Msg,
  type NatsConnection,
} from '@nats-io/transport-node';
import { freshNamespace, NATS_URL } from '../../../test/nats.js';
import { EncodedHeaders, headersOf } from './nats-headers.js';

describe('NATS headers over a real connection', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
  });
  afterAll(() => nc.close());

  async function roundTrip(headers?: EncodedHeaders): Promise<Msg> {
    const subject = `${freshNamespace()}.headers`;
    const received = new Promise<Msg>((resolve) => {
      nc.subscribe(subject, { max: 1, callback: (_, msg) => resolve(msg) });
    });
    await nc.flush();
    nc.publish(subject, 'body', { headers });
    return received;
  }

  it('reads what was sent, as the client reads it, from the bytes received', async () => {
    const sent = {
      'Chronicle-Message-Id': '01J9ZQ3V6G0000000000000001',
      'Chronicle-Type': 'shipping.ShipParcel',
      'Chronicle-Metadata': '{"tenant":"a: b","note":"x\\ny"}',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    const msg = await roundTrip(new EncodedHeaders(sent));
    // This client version keeps the raw bytes where headersOf reads them (else it falls back, slower).
    expect((msg as unknown as { _rdata: unknown })._rdata).toBeInstanceOf(
      Uint8Array,
    );
    const viaClient: Record<string, string> = {};
    for (const [key, values] of msg.headers!) viaClient[key] = values[0];
    expect(headersOf(msg)).toEqual(sent);
    expect(headersOf(msg)).toEqual(viaClient);
    expect(new TextDecoder().decode(msg.data)).toBe('body');
  });

  it('reads no headers from a message sent without any', async () => {
    expect(headersOf(await roundTrip())).toEqual({});
  });
});
