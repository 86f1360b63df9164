import { generateSigningKey } from './signing-keys.js';
import {
  jsonString,
  MessageSigner,
  SIGNATURE_HEADER,
} from './message-signer.js';
import { ReplayGuard } from './replay-guard.js';
import { resolveSigning, type SigningScheme } from './signing.options.js';
import {
  MessageSignatureError,
  SigningConfigurationError,
} from './signing.errors.js';
import { HEADER } from '../wire-format.js';
import type { WireMessage } from '../transport.js';
import { secret } from '../../../test/secret-watch.js';

const orders = generateSigningKey();
secret(orders.privateKey);
const billing = generateSigningKey();
secret(billing.privateKey);
const rotated = generateSigningKey();
secret(rotated.privateKey);
const stranger = generateSigningKey();
secret(stranger.privateKey);
const shipping = generateSigningKey();
secret(shipping.privateKey);

const trustedKeys = {
  orders: [orders.publicKey, rotated.publicKey],
  billing: billing.publicKey,
  shipping: shipping.publicKey,
};

function signerOf(
  app: string,
  privateKey: string,
  now: () => number = Date.now,
  keys: Record<string, string | string[]> = trustedKeys,
  scheme?: SigningScheme,
): MessageSigner {
  const signing = resolveSigning(
    app,
    { privateKey, trustedKeys: keys, scheme },
    {},
  );
  return new MessageSigner(signing!, now);
}

const command: WireMessage = {
  headers: {
    [HEADER.id]: '0190a1b2-0000-7000-8000-000000000001',
    [HEADER.type]: 'billing.Charge',
    [HEADER.correlationId]: '0190a1b2-0000-7000-8000-000000000001',
    [HEADER.app]: 'orders',
  },
  body: '{"orderId":"o-1","amount":10}',
};
const subject = 'chronicle.default.command.billing.Charge';
const asRequest = { kind: 'request', subject } as const;

async function refusal(
  verifying: Promise<unknown>,
): Promise<MessageSignatureError> {
  try {
    await verifying;
  } catch (error) {
    if (error instanceof MessageSignatureError) return error;
    throw error;
  }
  throw new Error('not refused');
}

const reasonOf = async (verifying: Promise<unknown>) =>
  (await refusal(verifying)).reason;

describe.each([
  ['pairwise', 'v2'],
  ['signatures', 'v1'],
] as const)('MessageSigner, scheme %s (%s)', (scheme, version) => {
  // Every app here sends in `scheme`; each accepts both versions.
  const signer = (
    app: string,
    privateKey: string,
    now: () => number = Date.now,
    keys: Record<string, string | string[]> = trustedKeys,
  ) => signerOf(app, privateKey, now, keys, scheme);
  const sender = signer('orders', orders.privateKey);
  const receiver = signer('billing', billing.privateKey);

  it('verifies what a trusted app signed, and names the app', async () => {
    const signed = await sender.sign(command, asRequest);
    expect(signed.headers[SIGNATURE_HEADER]).toMatch(
      new RegExp(`^${version} orders `),
    );
    expect((await receiver.verify(signed, asRequest, 'Charge')).app).toBe(
      'orders',
    );
  });

  it('accepts either key of an app whose key is being rotated', async () => {
    const next = signer('orders', rotated.privateKey);
    const signed = await next.sign(command, asRequest);
    expect((await receiver.verify(signed, asRequest, 'x')).app).toBe('orders');
  });

  it('refuses an unsigned message, an untrusted key, and a key used under another app name', async () => {
    expect(await reasonOf(receiver.verify(command, asRequest, 'x'))).toBe(
      'unsigned',
    );
    const unknown = signer('orders', stranger.privateKey, Date.now, {
      ...trustedKeys,
      orders: stranger.publicKey,
    });
    const byStranger = await unknown.sign(command, asRequest);
    expect(await reasonOf(receiver.verify(byStranger, asRequest, 'x'))).toBe(
      'untrusted-key',
    );
    // Billing's key, but the message says it comes from orders.
    const posing = await receiver.sign(
      { ...command, headers: { ...command.headers } },
      asRequest,
    );
    expect(await reasonOf(sender.verify(posing, asRequest, 'x'))).toBe(
      'app-mismatch',
    );
  });

  it('refuses a message altered after signing: body, a header, an added header, another subject', async () => {
    const signed = await sender.sign(command, asRequest);
    const variants: [
      WireMessage,
      typeof asRequest | { kind: 'request'; subject: string },
    ][] = [
      [{ ...signed, body: '{"orderId":"o-1","amount":1000}' }, asRequest],
      [
        {
          ...signed,
          headers: { ...signed.headers, [HEADER.type]: 'billing.Refund' },
        },
        asRequest,
      ],
      [
        {
          ...signed,
          headers: {
            ...signed.headers,
            [HEADER.metadata]: '{"user":{"id":"admin"}}',
          },
        },
        asRequest,
      ],
      [
        signed,
        { kind: 'request', subject: 'chronicle.other.command.billing.Charge' },
      ],
    ];
    for (const [message, binding] of variants)
      expect(await reasonOf(receiver.verify(message, binding, 'x'))).toBe(
        'bad-signature',
      );
    // The time a caller still waits is set per try, after signing: not covered.
    const stamped = {
      ...signed,
      headers: { ...signed.headers, [HEADER.timeoutMs]: '5000' },
    };
    expect((await receiver.verify(stamped, asRequest, 'x')).app).toBe('orders');
  });

  it('binds a reply to its request: it cannot answer another one', async () => {
    const reply = await receiver.sign(
      { headers: { [HEADER.status]: 'ok' }, body: '{}' },
      { kind: 'reply', requestId: 'r-1' },
    );
    expect(
      (await sender.verify(reply, { kind: 'reply', requestId: 'r-1' }, 'x'))
        .app,
    ).toBe('billing');
    expect(
      await reasonOf(
        sender.verify(reply, { kind: 'reply', requestId: 'r-2' }, 'x'),
      ),
    ).toBe('bad-signature');
  });

  it('refuses a signature older or newer than the window', async () => {
    let now = 1_000_000_000;
    const clocked = signer('billing', billing.privateKey, () => now);
    const signed = await signer('orders', orders.privateKey, () => now).sign(
      command,
      asRequest,
    );
    now += 61_000;
    const late = await refusal(clocked.verify(signed, asRequest, 'Charge'));
    expect(late.reason).toBe('expired');
    expect(late.message).toContain('61 s');
    now -= 122_000;
    expect(await reasonOf(clocked.verify(signed, asRequest, 'x'))).toBe(
      'expired',
    );
  });
});

describe('MessageSigner, pairwise tags (v2)', () => {
  const fromOrders = signerOf('orders', orders.privateKey);
  const atBilling = signerOf('billing', billing.privateKey);
  const atShipping = signerOf('shipping', shipping.privateKey);
  const tagsOf = (message: WireMessage) =>
    new Map(
      message.headers[SIGNATURE_HEADER]!.split(' ')[4]
        .split(',')
        .map((entry) => entry.split(':') as [string, string]),
    );
  const withTagText = (message: WireMessage, text: string) => {
    const parts = message.headers[SIGNATURE_HEADER]!.split(' ');
    parts[4] = text;
    return {
      ...message,
      headers: { ...message.headers, [SIGNATURE_HEADER]: parts.join(' ') },
    };
  };
  const withTags = (message: WireMessage, tags: Map<string, string>) =>
    withTagText(
      message,
      [...tags].map(([fp, tag]) => `${fp}:${tag}`).join(','),
    );
  const fp = (key: { publicKey: string }) => key.publicKey.slice(0, 8);
  const billingCommand: WireMessage = {
    ...command,
    headers: { ...command.headers, [HEADER.app]: 'billing' },
  };

  it("tags a request for every trusted key, the sender's own and both of a rotating app's included", async () => {
    const signed = await atBilling.sign(billingCommand, asRequest);
    expect([...tagsOf(signed).keys()].sort()).toEqual(
      [orders, rotated, billing, shipping].map(fp).sort(),
    );
    // Either instance of orders, on the old key or the new one, takes it.
    const onOld = signerOf('orders', orders.privateKey);
    const onNew = signerOf('orders', rotated.privateKey);
    const asPublish = { kind: 'publish' } as const;
    const published = await atBilling.sign(billingCommand, asPublish);
    for (const orderly of [onOld, onNew]) {
      expect((await orderly.verify(signed, asRequest, 'x')).app).toBe(
        'billing',
      );
      expect((await orderly.verify(published, asPublish, 'x')).app).toBe(
        'billing',
      );
    }
  });

  it('tags a reply for the key of the request it answers alone', async () => {
    const reply = await atBilling.sign(
      { headers: { [HEADER.status]: 'ok' }, body: '{}' },
      { kind: 'reply', requestId: 'r-1', to: orders.publicKey },
    );
    expect([...tagsOf(reply).keys()]).toEqual([fp(orders)]);
    const asReply = { kind: 'reply', requestId: 'r-1' } as const;
    expect((await fromOrders.verify(reply, asReply, 'x')).app).toBe('billing');
    const other = await refusal(atShipping.verify(reply, asReply, 'x'));
    expect(other.reason).toBe('unsigned');
    expect(other.message).toContain('tagged it for other keys');
  });

  it("refuses a tag made for another app, copied in as this app's, and a message without its tag", async () => {
    const signed = await fromOrders.sign(command, asRequest);
    const tags = tagsOf(signed);
    // Billing's tag put where shipping's was: billing cannot forge for shipping.
    const copied = new Map(tags).set(fp(shipping), tags.get(fp(billing))!);
    expect(
      await reasonOf(
        atShipping.verify(withTags(signed, copied), asRequest, 'x'),
      ),
    ).toBe('bad-signature');
    const without = new Map(tags);
    without.delete(fp(shipping));
    expect(
      await reasonOf(
        atShipping.verify(withTags(signed, without), asRequest, 'x'),
      ),
    ).toBe('unsigned');
    // Billing still takes the stripped message: its own tag is intact.
    expect(
      (await atBilling.verify(withTags(signed, without), asRequest, 'x')).app,
    ).toBe('orders');
    // Two tags under one key name, or tags that cannot be read: malformed.
    const own = `${fp(shipping)}:${tags.get(fp(shipping))!}`;
    for (const text of [`${own},${own}`, 'no-tags-here', `${own}:x`])
      expect(
        await reasonOf(
          atShipping.verify(withTagText(signed, text), asRequest, 'x'),
        ),
      ).toBe('malformed');
    // A short tag is no match, not an error.
    const short = new Map(tags).set(fp(shipping), 'AAAA');
    expect(
      await reasonOf(
        atShipping.verify(withTags(signed, short), asRequest, 'x'),
      ),
    ).toBe('bad-signature');
  });

  it('gives the same replay token for a copy and another for the next message', async () => {
    const signed = await fromOrders.sign(command, asRequest);
    const first = await atBilling.verify(signed, asRequest, 'x');
    const again = await atBilling.verify({ ...signed }, asRequest, 'x');
    expect(again.signature).toBe(first.signature);
    expect(first.publicKey).toBe(orders.publicKey);
    expect(first.signature).toBe(tagsOf(signed).get(fp(billing)));
    const next = await fromOrders.sign(
      { ...command, headers: { ...command.headers, [HEADER.id]: 'other-id' } },
      asRequest,
    );
    expect((await atBilling.verify(next, asRequest, 'x')).signature).not.toBe(
      first.signature,
    );
  });

  it('talks both ways with an app that signs with ed25519 (v1)', async () => {
    const v1 = signerOf(
      'orders',
      orders.privateKey,
      Date.now,
      trustedKeys,
      'signatures',
    );
    const fromV1 = await v1.sign(command, asRequest);
    expect(fromV1.headers[SIGNATURE_HEADER]).toMatch(/^v1 /);
    expect((await atBilling.verify(fromV1, asRequest, 'x')).app).toBe('orders');
    const fromV2 = await atBilling.sign(billingCommand, asRequest);
    expect((await v1.verify(fromV2, asRequest, 'x')).app).toBe('billing');
  });
});

describe('MessageSigner, what is signed', () => {
  // Fixed keys and time: the headers both schemes give this message must not
  // change between versions of Chronicle, or apps of two versions would
  // refuse each other's messages. Made with the code of 2026-12-05.
  const ordersKey = {
    privateKey: 'RIO182NZe0w2iWOUv7TL5AZk6FJwGtX9qvCm5zHLMp8',
    publicKey: '9bjh9hqAF256ux2E7QKScaOizP36B0od_ciBNYXqwkk',
  };
  const billingKey = '_dqMBijDRQm_ryaY19nsntdah7Gv_OhH9S4_U1nclAk';
  secret(ordersKey.privateKey);
  const message: WireMessage = {
    headers: {
      'Chronicle-Type': 'orders.PlaceOrder',
      'Chronicle-Id': 'm-1',
      'Chronicle-App': 'orders',
      'x-note': 'a "quoted" \\ back\tslash é \u2028 \ud800 \u007f',
      'Chronicle-Timeout-Ms': '5000',
    },
    body: '{"orderId":"o-1","lines":[{"sku":"é","qty":2}]}',
  };
  const headerOf = async (scheme: SigningScheme) => {
    const signer = signerOf(
      'orders',
      ordersKey.privateKey,
      () => 1764931200000,
      { orders: ordersKey.publicKey, billing: billingKey },
      scheme,
    );
    const signed = await signer.sign(message, {
      kind: 'request',
      subject: 'chronicle.shop.command.orders.PlaceOrder',
    });
    return signed.headers[SIGNATURE_HEADER];
  };

  it('gives the same v2 tags and v1 signature as earlier versions', async () => {
    expect(await headerOf('pairwise')).toBe(
      'v2 orders 9bjh9hqAF256ux2E7QKScaOizP36B0od_ciBNYXqwkk 1764931200000 9bjh9hqA:Hg32JcUjs8kd4_w2MC0NTw,_dqMBijD:05oFu5SQUfFKhEezcAGzIw',
    );
    expect(await headerOf('signatures')).toBe(
      'v1 orders 9bjh9hqAF256ux2E7QKScaOizP36B0od_ciBNYXqwkk 1764931200000 6ERduFw2bkm86rtd0wKwPm4JFIz0wtsv5EUYu8lIncDgYxeOkwsca6M32NENb7WO_iYCtxXA-boiR8TtHrB3CQ',
    );
  });

  it('quotes header values exactly as JSON.stringify does', () => {
    const samples = [
      '',
      'plain-ascii 0123 ~!#$%&()*+,-./:;<=>?@[]^_`{|}',
      '"',
      '\\',
      'tab\there',
      '\u0000\u001f\u007f',
      'é ü 漢字 😀',
      '\u2028\u2029',
      '\ud800 lone \udfff',
    ];
    for (let code = 0; code < 0x180; code++)
      samples.push(`x${String.fromCharCode(code)}y`);
    for (const sample of samples)
      expect(jsonString(sample)).toBe(JSON.stringify(sample));
  });
});

describe('MessageSigner, at start', () => {
  it('refuses two trusted keys a v2 tag would name alike', () => {
    // The same first 6 bytes (8 characters), another key.
    const bytes = Buffer.from(billing.publicKey, 'base64url');
    bytes[20] ^= 1;
    const twin = bytes.toString('base64url');
    expect(() =>
      signerOf('orders', orders.privateKey, Date.now, {
        ...trustedKeys,
        twin,
      }),
    ).toThrow(/Two trusted keys start with/);
  });
});

describe('ReplayGuard', () => {
  it('takes a signature once while it is acceptable, and forgets it after', () => {
    let now = 0;
    const guard = new ReplayGuard(1_000, 100, () => now);
    expect(guard.firstTime('a', 0)).toBe(true);
    expect(guard.firstTime('a', 0)).toBe(false);
    now = 2_000;
    guard.firstTime('b', 2_000);
    expect(guard.size).toBe(1);
  });
});

describe('resolveSigning', () => {
  it('is off with neither a key nor trusted keys', () => {
    expect(resolveSigning('orders', undefined, {})).toBeUndefined();
  });

  it('reads the key and the trusted keys from the environment', () => {
    const signing = resolveSigning('orders', undefined, {
      CHRONICLE_SIGNING_KEY: orders.privateKey,
      CHRONICLE_TRUSTED_KEYS: JSON.stringify(trustedKeys),
    });
    expect(signing?.key.publicKey).toBe(orders.publicKey);
    expect(signing?.trusted.size).toBe(4);
    expect(signing?.scheme).toBe('pairwise');
  });

  it('refuses half a setup, a key not trusted for its own app, and keys that are not ed25519', () => {
    const errors = [
      () => resolveSigning('orders', { privateKey: orders.privateKey }, {}),
      () => resolveSigning('orders', { trustedKeys }, {}),
      () =>
        resolveSigning(
          'orders',
          { privateKey: stranger.privateKey, trustedKeys },
          {},
        ),
      () =>
        resolveSigning('orders', { privateKey: 'c2hvcnQ', trustedKeys }, {}),
      () =>
        resolveSigning(
          'orders',
          { privateKey: orders.privateKey, trustedKeys: { orders: 'nope' } },
          {},
        ),
      () =>
        resolveSigning('orders', undefined, {
          CHRONICLE_SIGNING_KEY: orders.privateKey,
          CHRONICLE_TRUSTED_KEYS: '[1]',
        }),
      () =>
        resolveSigning(
          'orders',
          {
            privateKey: orders.privateKey,
            trustedKeys,
            scheme: 'hmac' as SigningScheme,
          },
          {},
        ),
    ];
    const messages = errors.map((fn) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(SigningConfigurationError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    });
    expect(messages[0]).toContain('trusts no keys');
    expect(messages[1]).toContain('has none of its own');
    expect(messages[2]).toContain('which its trusted keys do not list');
    expect(messages[3]).toContain('must be 32 bytes');
    expect(messages[4]).toContain('trustedKeys["orders"]');
    expect(messages[5]).toContain('CHRONICLE_TRUSTED_KEYS must be an object');
    expect(messages[6]).toContain("scheme must be 'pairwise'");
  });
});
