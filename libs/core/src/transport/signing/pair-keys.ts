import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import type { SigningKey } from './signing-keys.js';
import { SigningConfigurationError } from './signing.errors.js';

// The pairwise scheme (v2) turns each app's ed25519 key into an X25519 one
// (RFC 7748), so two apps share a secret without any new key to hand out.

/** HKDF salt of the pair keys: names the scheme, so no other use of these keys derives the same. */
const PAIR_SALT = Buffer.from('chronicle-pairwise-mac-v2');
const P = 2n ** 255n - 19n;

/** The X25519 private key of an ed25519 seed: SHA-512 of the seed, first half, clamped (RFC 8032, 7748). */
export function x25519PrivateOf(seed: Buffer): KeyObject {
  const scalar = createHash('sha512').update(seed).digest().subarray(0, 32);
  scalar[0] &= 248;
  scalar[31] &= 127;
  scalar[31] |= 64;
  // PKCS#8 wrapping of a raw X25519 private key (RFC 8410): Node computes
  // the public key itself, which the tests compare with the converted one.
  return createPrivateKey({
    key: Buffer.concat([
      Buffer.from('302e020100300506032b656e04220420', 'hex'),
      scalar,
    ]),
    format: 'der',
    type: 'pkcs8',
  });
}

/**
 * The X25519 public key (Montgomery u) of an ed25519 public key (Edwards y,
 * little-endian, the top bit the sign of x): u = (1 + y) / (1 - y) mod p.
 * Undefined for the one y with no u (y = 1, the neutral point).
 */
export function x25519PublicOf(ed25519: Buffer): Buffer | undefined {
  const bytes = Buffer.from(ed25519);
  bytes[31] &= 127;
  const y = BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`) % P;
  const denominator = (1n - y + P) % P;
  if (denominator === 0n) return undefined;
  const u = ((1n + y) * power(denominator, P - 2n)) % P;
  return Buffer.from(u.toString(16).padStart(64, '0'), 'hex').reverse();
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base % P;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/** A public key's short name in a v2 header: its first 8 characters (48 bits). */
export function fingerprintOf(publicKey: string): string {
  return publicKey.slice(0, 8);
}

/**
 * The key this app shares with each trusted key: HKDF-SHA256 of their X25519
 * agreement, with both ed25519 public keys (sorted) as info, so both ends
 * derive the same. Derived once per key and kept.
 */
export class PairKeys {
  private readonly own: KeyObject;
  // As KeyObjects: an HMAC keyed with one skips importing the key per message.
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly key: SigningKey) {
    const { d } = key.privateKey.export({ format: 'jwk' });
    this.own = x25519PrivateOf(Buffer.from(d ?? '', 'base64url'));
  }

  /** The key shared with the holder of `publicKey` (canonical base64url text). */
  with(publicKey: string): KeyObject {
    let pair = this.keys.get(publicKey);
    if (pair === undefined) {
      pair = createSecretKey(derive(this.own, this.key.publicKey, publicKey));
      this.keys.set(publicKey, pair);
    }
    return pair;
  }
}

function derive(own: KeyObject, ownText: string, otherText: string): Buffer {
  const u = x25519PublicOf(Buffer.from(otherText, 'base64url'));
  let secret: Buffer | undefined;
  try {
    if (u !== undefined)
      secret = diffieHellman({
        privateKey: own,
        publicKey: createPublicKey({
          key: { kty: 'OKP', crv: 'X25519', x: u.toString('base64url') },
          format: 'jwk',
        }),
      });
  } catch {
    // A small-order point: no shared secret (refused below).
  }
  if (secret === undefined || secret.every((byte) => byte === 0)) {
    throw new SigningConfigurationError(
      `The trusted key ${otherText} is a degenerate ed25519 point with no X25519 agreement: it is not a real app's key; make one with npx chronicle keygen.`,
    );
  }
  const info = Buffer.from([ownText, otherText].sort().join(' '));
  return Buffer.from(hkdfSync('sha256', secret, PAIR_SALT, info, 32));
}
