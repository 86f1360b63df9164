import { HEADER, NatsTransport, NotPermittedError } from '../index.js';
import { OwnNatsServer } from '../../../test/nats.js';
import { secret } from '../../../test/secret-watch.js';

// What an app sees when its NATS user lacks a permission, on a nats-server
// of the test's own: a refusal by NATS is a typed error naming the subject,
// at once, and the connection stays up for everything else.

const PASSWORD = secret('perm-pa55-5150');

describe('NATS permissions as the transport sees them', () => {
  let server: OwnNatsServer;
  const opened: NatsTransport[] = [];

  beforeAll(async () => {
    server = await OwnNatsServer.start({
      config: `authorization { users: [
        { user: "server-side", password: "${PASSWORD}" }
        { user: "limited", password: "${PASSWORD}", permissions: {
            publish: { allow: ["perm.allowed"] }
            subscribe: { allow: ["_INBOX.>"] }
        } }
      ] }`,
    });
  });

  afterAll(async () => {
    await Promise.all(opened.map((t) => t.close()));
    await server.stop();
  });

  async function connect(user: string): Promise<NatsTransport> {
    const transport = await NatsTransport.connect(
      { servers: server.url, user, pass: PASSWORD },
      () => undefined,
      { warn: () => undefined },
    );
    opened.push(transport);
    return transport;
  }

  const request = (transport: NatsTransport, subject: string, id: string) =>
    transport.request(
      subject,
      { headers: { [HEADER.id]: id }, body: 'ping' },
      { timeoutMs: 10_000, messageType: `t.${subject}` },
    );

  it('fails a request to a subject the user may not publish to with NotPermittedError, and goes on', async () => {
    const serving = await connect('server-side');
    for (const subject of ['perm.allowed', 'perm.forbidden'])
      await serving.serve(subject, subject, async () => ({
        headers: {},
        body: `pong ${subject}`,
      }));
    const limited = await connect('limited');

    const refused = await request(limited, 'perm.forbidden', 'm-1').catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(NotPermittedError);
    expect(refused).toMatchObject({
      code: 'NOT_PERMITTED',
      operation: 'publish',
      subject: 'perm.forbidden',
      messageId: 'm-1',
    });
    expect((refused as Error).message).not.toContain(PASSWORD);

    await expect(request(limited, 'perm.allowed', 'm-2')).resolves.toEqual(
      expect.objectContaining({ body: 'pong perm.allowed' }),
    );
    expect(limited.status()).toMatchObject({ connected: true });
  });

  it('refuses to serve a subject the user may not subscribe to, at once', async () => {
    const limited = await connect('limited');
    await expect(
      limited.serve('perm.served', 'perm.served', async () => ({
        headers: {},
        body: '',
      })),
    ).rejects.toMatchObject({
      code: 'NOT_PERMITTED',
      operation: 'subscribe',
      subject: 'perm.served',
    });
  });
});
