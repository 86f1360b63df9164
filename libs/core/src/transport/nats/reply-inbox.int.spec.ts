import { connect, type NatsConnection } from '@nats-io/transport-node';
import { freshNamespace, NATS_URL } from '../../../test/nats.js';
import { ReplyInbox } from './reply-inbox.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('ReplyInbox over a real connection', () => {
  let nc: NatsConnection;
  let inbox: ReplyInbox<string>;
  let subject: string;
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
    inbox = new ReplyInbox(nc);
    subject = `${freshNamespace()}.inbox`;
    // Answers "echo ..." requests; never answers "silent ...".
    nc.subscribe(`${subject}.echo`, {
      callback: (_, msg) => {
        msg.respond(`re: ${msg.string()}`);
      },
    });
    nc.subscribe(`${subject}.silent`, { callback: () => undefined });
    await nc.flush();
  });
  afterAll(() => nc.close());

  const send = (to: string, timeoutMs: number, about = to) =>
    inbox.request(
      `${subject}.${to}`,
      encoder.encode(about),
      { timeoutMs },
      about,
    );

  it('resolves each request with its own reply, many at once', async () => {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        send('echo', 5_000, `m-${i}`).then((msg) => decoder.decode(msg.data)),
      ),
    );
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => `re: m-${i}`));
  });

  it('says no-responders when nobody serves the subject', async () => {
    await expect(send('nobody', 5_000)).rejects.toBe('no-responders');
  });

  it('times out a short request sent after a long one first (one timer, re-armed for the earliest)', async () => {
    const order: string[] = [];
    const long = send('silent', 600, 'long').catch((reason: unknown) => {
      order.push(`long ${String(reason)}`);
    });
    const short = send('silent', 30, 'short').catch((reason: unknown) => {
      order.push(`short ${String(reason)}`);
    });
    await Promise.all([long, short]);
    expect(order).toEqual(['short timeout', 'long timeout']);
  });

  it('fails every waiting request with the error made for it', async () => {
    const waiting = [send('silent', 5_000, 'a'), send('silent', 5_000, 'b')];
    inbox.failAll((about) => new Error(`in doubt: ${about}`));
    await expect(waiting[0]).rejects.toThrow('in doubt: a');
    await expect(waiting[1]).rejects.toThrow('in doubt: b');
    // Still usable afterwards.
    expect(decoder.decode((await send('echo', 5_000, 'after')).data)).toBe(
      're: after',
    );
  });
});
