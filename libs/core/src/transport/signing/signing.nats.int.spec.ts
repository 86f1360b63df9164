import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import {
  encodeRequest,
  generateSigningKey,
  HEADER,
  MessageSignatureError,
  messageSubject,
  NatsTransport,
  newMessageId,
  SIGNATURE_HEADER,
  type SigningScheme,
  type WireMessage,
} from '../../index.js';
import { MessageSigner, resolveSigning, SigningTransport } from './index.js';
import { waitUntil } from '../../../test/wait-until.js';
import { postgresDatabase } from '../../../test/databases.js';
import { freshNamespace, NATS_URL } from '../../../test/nats.js';
import { ShipParcel } from '../../../test/shipping.fixture.js';
import { startApp, type TestApp } from '../../../test/transport-apps.js';
import { secret } from '../../../test/secret-watch.js';

// Signed messages between two apps on the shared NATS: the shipping app
// serves ShipParcel and accepts only what a trusted key signed; the raw
// transport below plays the attacker who can publish on NATS.

const database = postgresDatabase();
afterAll(() => database.close());

const shippingKey = generateSigningKey();
secret(shippingKey.privateKey);
const callerKey = generateSigningKey();
secret(callerKey.privateKey);
const strangerKey = generateSigningKey();
secret(strangerKey.privateKey);
const trustedKeys = {
  shipping: shippingKey.publicKey,
  caller: callerKey.publicKey,
};

const opened: TestApp[] = [];
const raws: NatsTransport[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(opened.splice(0).map((a) => a.close()));
  await Promise.all(raws.splice(0).map((t) => t.close()));
});

async function app(
  name: string,
  namespace: string,
  privateKey: string | undefined,
  handlers: boolean,
  scheme?: SigningScheme,
): Promise<TestApp> {
  const started = await startApp({
    instance: name,
    client: database.client(),
    handlers,
    chronicle: {
      app: name,
      transport: {
        nats: NATS_URL,
        namespace,
        routing: 'remote',
        signing: privateKey ? { privateKey, trustedKeys, scheme } : undefined,
      },
    },
  });
  opened.push(started);
  return started;
}

async function raw(): Promise<NatsTransport> {
  const transport = await NatsTransport.connect(
    { servers: NATS_URL },
    () => undefined,
  );
  raws.push(transport);
  return transport;
}

function shipParcel(parcelId: string): WireMessage {
  const id = newMessageId();
  return encodeRequest(
    {
      id,
      type: 'ship.ShipParcel',
      revision: 1,
      payload: { parcelId, weightKg: 1 },
      metadata: { correlationId: id },
      timestamp: new Date(),
    },
    { parcelId, weightKg: 1 },
    { app: 'caller' },
  );
}

describe('signed messages over NATS', () => {
  it('runs a command signed by a trusted app, and the caller trusts the signed reply', async () => {
    const namespace = freshNamespace();
    const shipping = await app(
      'shipping',
      namespace,
      shippingKey.privateKey,
      true,
    );
    const caller = await app('caller', namespace, callerKey.privateKey, false);
    await expect(
      caller.commands.execute(new ShipParcel('p-1', 2)),
    ).resolves.toEqual({ parcelId: 'p-1', handledBy: 'shipping' });
    expect(shipping.ledger?.shipped).toBe(1);
  });

  it('lets an app that signs with ed25519 (v1) and one that tags pairwise (v2) call each other', async () => {
    const watcher = await raw();
    const run = async (server: SigningScheme, caller: SigningScheme) => {
      const namespace = freshNamespace();
      const seen: string[] = [];
      await watcher.subscribe(
        messageSubject(namespace, 'command', 'ship.ShipParcel'),
        'watch',
        (message) => {
          seen.push(message.headers[SIGNATURE_HEADER]!.slice(0, 2));
        },
      );
      const shipping = await app(
        'shipping',
        namespace,
        shippingKey.privateKey,
        true,
        server,
      );
      const calling = await app(
        'caller',
        namespace,
        callerKey.privateKey,
        false,
        caller,
      );
      await expect(
        calling.commands.execute(new ShipParcel(`p-${caller}`, 1)),
      ).resolves.toEqual({ parcelId: `p-${caller}`, handledBy: 'shipping' });
      expect(shipping.ledger?.shipped).toBe(1);
      await waitUntil(() => seen.length === 1, 'the command seen on NATS');
      return seen[0];
    };
    expect(await run('signatures', 'pairwise')).toBe('v2');
    expect(await run('pairwise', 'signatures')).toBe('v1');
  });

  it('refuses an unsigned request, one signed by an unknown key, and a replay, before any handler runs', async () => {
    const spies = (['log', 'warn', 'error', 'debug'] as const).map((level) =>
      jest.spyOn(Logger.prototype, level),
    );
    const namespace = freshNamespace();
    const shipping = await app(
      'shipping',
      namespace,
      shippingKey.privateKey,
      true,
    );
    const subject = messageSubject(namespace, 'command', 'ship.ShipParcel');
    const attacker = await raw();
    const send = (message: WireMessage) =>
      attacker.request(subject, message, {
        timeoutMs: 5_000,
        messageType: 'ship.ShipParcel',
      });
    const reasonOf = (reply: WireMessage) =>
      (JSON.parse(reply.body) as { fields?: { reason?: string } }).fields
        ?.reason;

    const unsigned = await send(shipParcel('p-2'));
    expect(unsigned.headers[HEADER.status]).toBe('error');
    expect(reasonOf(unsigned)).toBe('unsigned');
    // The refusal itself is signed by the serving app.
    expect(unsigned.headers[SIGNATURE_HEADER]).toMatch(/^v2 shipping /);

    // Signed, but by a key the serving app does not trust.
    const stranger = new MessageSigner(
      resolveSigning(
        'caller',
        {
          privateKey: strangerKey.privateKey,
          trustedKeys: { caller: strangerKey.publicKey },
        },
        {},
      )!,
    );
    const untrusted = await send(
      await stranger.sign(shipParcel('p-2'), { kind: 'request', subject }),
    );
    expect(reasonOf(untrusted)).toBe('untrusted-key');

    // Captured on the way and sent again: the first copy runs, the second does not.
    const caller = await app('caller', namespace, callerKey.privateKey, false);
    const captured: WireMessage[] = [];
    const listener = await raw();
    await listener.subscribe(subject, 'spy', (message) => {
      captured.push(message);
    });
    await caller.commands.execute(new ShipParcel('p-3', 1));
    expect(captured).toHaveLength(1);
    const replayed = await send(captured[0]);
    expect(reasonOf(replayed)).toBe('replayed');
    expect(shipping.ledger?.shipped).toBe(1);

    // Altered on the way: the same signature over another body.
    const altered = await send({
      headers: { ...captured[0].headers, [HEADER.id]: newMessageId() },
      body: captured[0].body,
    });
    expect(reasonOf(altered)).toBe('bad-signature');
    expect(shipping.ledger?.shipped).toBe(1);

    // The serving app stays up and serves what is signed.
    await expect(
      caller.commands.execute(new ShipParcel('p-4', 1)),
    ).resolves.toMatchObject({ parcelId: 'p-4' });
    expect(shipping.ledger?.shipped).toBe(2);

    // A reply is tagged for the key that asked alone (v2): other apps
    // cannot take it for theirs.
    const asCaller = new MessageSigner(
      resolveSigning(
        'caller',
        { privateKey: callerKey.privateKey, trustedKeys },
        {},
      )!,
    );
    const answered = await send(
      await asCaller.sign(shipParcel('p-6'), { kind: 'request', subject }),
    );
    expect(answered.headers[HEADER.status]).toBe('ok');
    expect(answered.headers[SIGNATURE_HEADER]!.split(' ')[4]).toMatch(
      new RegExp(`^${callerKey.publicKey.slice(0, 8)}:[\\w-]{22}$`),
    );

    // Each refusal was logged where it happened; no private key ever was.
    const log = spies
      .flatMap((spy) =>
        spy.mock.calls.map((call) => call.map(String).join(' ')),
      )
      .join('\n');
    expect(log).toContain('was refused: it is not signed');
    expect(log).toContain('a replay');
    for (const key of [shippingKey, callerKey, strangerKey])
      expect(log).not.toContain(key.privateKey);
  });

  it('gives a caller that does not sign the refusal as MessageSignatureError', async () => {
    const namespace = freshNamespace();
    await app('shipping', namespace, shippingKey.privateKey, true);
    const unsigned = await app('caller', namespace, undefined, false);
    const refused = await unsigned.commands
      .execute(new ShipParcel('p-4', 1))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MessageSignatureError);
    expect(refused).toMatchObject({ reason: 'unsigned' });
  });

  it('drops published messages that are unsigned or altered, and the subscriber takes the next signed one', async () => {
    const signing = new MessageSigner(
      resolveSigning(
        'shipping',
        { privateKey: shippingKey.privateKey, trustedKeys },
        {},
      )!,
    );
    const subscriber = new SigningTransport(await raw(), signing);
    const plain = await raw();
    const subject = `signing-test.${freshNamespace()}`;
    const taken: string[] = [];
    await subscriber.subscribe(subject, 'group', (message) => {
      taken.push(message.body);
    });
    const message = (body: string): WireMessage => ({
      headers: { [HEADER.id]: newMessageId(), [HEADER.type]: 't.Noted' },
      body,
    });
    await plain.publish(subject, message('"unsigned"'));
    const signed = await signing.sign(message('"signed"'), { kind: 'publish' });
    await plain.publish(subject, { ...signed, body: '"altered"' });
    // From the same connection, so it arrives after the two above.
    await plain.publish(
      subject,
      await signing.sign(message('"genuine"'), { kind: 'publish' }),
    );
    await waitUntil(() => taken.length > 0, 'the signed message');
    expect(taken).toEqual(['"genuine"']);
  });

  it('refuses an unsigned reply at a signing caller: the command may have run', async () => {
    const namespace = freshNamespace();
    await app('shipping', namespace, undefined, true);
    const caller = await app('caller', namespace, callerKey.privateKey, false);
    const refused = await caller.commands
      .execute(new ShipParcel('p-5', 1))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MessageSignatureError);
    expect(refused).toMatchObject({ reason: 'unsigned' });
    expect((refused as Error).message).toContain('It may have been handled');
  });
});
