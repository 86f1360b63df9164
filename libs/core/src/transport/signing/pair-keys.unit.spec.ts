import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  fingerprintOf,
  PairKeys,
  x25519PrivateOf,
  x25519PublicOf,
} from './pair-keys.js';
import { generateSigningKey, readPrivateKey } from './signing-keys.js';
import { SigningConfigurationError } from './signing.errors.js';

describe('ed25519 keys as X25519 keys', () => {
  it('converts the public key to the one Node computes from the converted private key, for many keys', () => {
    for (let i = 0; i < 200; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const seed = Buffer.from(
        privateKey.export({ format: 'jwk' }).d!,
        'base64url',
      );
      const ed = Buffer.from(
        publicKey.export({ format: 'jwk' }).x!,
        'base64url',
      );
      const fromNode = createPublicKey(x25519PrivateOf(seed)).export({
        format: 'jwk',
      });
      expect(fromNode.crv).toBe('X25519');
      expect(x25519PublicOf(ed)?.toString('base64url')).toBe(fromNode.x);
    }
  });

  it('has no X25519 key for the neutral point (y = 1)', () => {
    const one = Buffer.alloc(32);
    one[0] = 1;
    expect(x25519PublicOf(one)).toBeUndefined();
  });
});

describe('PairKeys', () => {
  const keys = Array.from({ length: 3 }, () => {
    const text = generateSigningKey();
    return readPrivateKey(text.privateKey, 'test key');
  });
  const [a, b, c] = keys.map((key) => ({ key, pairs: new PairKeys(key) }));

  it('derives one key per pair, the same from both ends, another for each pair', () => {
    const bytes = (from: typeof a, to: typeof a) =>
      from.pairs.with(to.key.publicKey).export();
    const ab = bytes(a, b);
    expect(ab).toHaveLength(32);
    expect(bytes(b, a).equals(ab)).toBe(true);
    expect(bytes(a, c).equals(ab)).toBe(false);
    expect(bytes(c, b).equals(bytes(b, c))).toBe(true);
    expect(bytes(c, b).equals(ab)).toBe(false);
    // An app's key with itself (it may serve its own requests): one key too.
    expect(bytes(a, a).equals(ab)).toBe(false);
    // Kept: the same key the second time.
    expect(a.pairs.with(b.key.publicKey)).toBe(a.pairs.with(b.key.publicKey));
  });

  it('refuses a trusted key with no agreement', () => {
    const one = Buffer.alloc(32);
    one[0] = 1;
    expect(() => a.pairs.with(one.toString('base64url'))).toThrow(
      SigningConfigurationError,
    );
  });

  it('names a key by the first 8 characters of its text', () => {
    expect(fingerprintOf(a.key.publicKey)).toBe(a.key.publicKey.slice(0, 8));
  });
});
