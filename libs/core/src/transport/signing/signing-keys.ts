import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { SigningConfigurationError } from './signing.errors.js';

// Raw ed25519 keys (32 bytes) become KeyObjects through their DER wrapping:
// PKCS#8 for the private seed, SPKI for the public key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** An app's signing key, and its public key as text (base64url of the raw 32 bytes). */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: string;
}

/** A new key pair, as text: what `npx chronicle keygen` prints. */
export function generateSigningKey(): {
  privateKey: string;
  publicKey: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: rawOf(
      privateKey.export({ format: 'der', type: 'pkcs8' }),
      PKCS8_PREFIX,
    ),
    publicKey: rawOf(
      publicKey.export({ format: 'der', type: 'spki' }),
      SPKI_PREFIX,
    ),
  };
}

function rawOf(der: Buffer, prefix: Buffer): string {
  return der.subarray(prefix.length).toString('base64url');
}

/** Reads a private key: PEM (PKCS#8), or base64 / base64url of the 32-byte seed. */
export function readPrivateKey(text: string, where: string): SigningKey {
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN')
      ? createPrivateKey(text)
      : createPrivateKey({
          key: Buffer.concat([PKCS8_PREFIX, raw32(text, where)]),
          format: 'der',
          type: 'pkcs8',
        });
  } catch (error) {
    if (error instanceof SigningConfigurationError) throw error;
    throw new SigningConfigurationError(
      `${where} is not an ed25519 private key: ${(error as Error).message}. Make one with npx chronicle keygen.`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SigningConfigurationError(
      `${where} is a ${String(key.asymmetricKeyType)} key; messages are signed with ed25519 (npx chronicle keygen).`,
    );
  }
  const publicKey = createPublicKey(key);
  return {
    privateKey: key,
    publicKey: rawOf(
      publicKey.export({ format: 'der', type: 'spki' }),
      SPKI_PREFIX,
    ),
  };
}

/** Reads a public key (base64 / base64url of 32 bytes, or PEM); returns it as a KeyObject and in its canonical text. */
export function readPublicKey(
  text: string,
  where: string,
): { key: KeyObject; text: string } {
  try {
    const key = text.includes('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({
          key: Buffer.concat([SPKI_PREFIX, raw32(text, where)]),
          format: 'der',
          type: 'spki',
        });
    if (key.asymmetricKeyType !== 'ed25519')
      throw new Error(`a ${String(key.asymmetricKeyType)} key, not ed25519`);
    return {
      key,
      text: rawOf(key.export({ format: 'der', type: 'spki' }), SPKI_PREFIX),
    };
  } catch (error) {
    if (error instanceof SigningConfigurationError) throw error;
    throw new SigningConfigurationError(
      `${where} is not an ed25519 public key: ${(error as Error).message}.`,
    );
  }
}

function raw32(text: string, where: string): Buffer {
  const bytes = Buffer.from(text.trim(), 'base64url');
  if (bytes.length !== 32) {
    throw new SigningConfigurationError(
      `${where} must be 32 bytes in base64 or base64url (or PEM), got ${bytes.length} bytes.`,
    );
  }
  return bytes;
}

// Synchronous on purpose: the thread pool's callback forms were measured
// slower here (a thread hop per message costs more than the CPU it frees on
// two cores; see docs/benchmarks.md, issue 19).

export function signBytes(key: KeyObject, data: Buffer): Promise<string> {
  return Promise.resolve(sign(null, data, key).toString('base64url'));
}

export function verifyBytes(
  key: KeyObject,
  data: Buffer,
  signature: string,
): Promise<boolean> {
  const bytes = Buffer.from(signature, 'base64url');
  return Promise.resolve(bytes.length === 64 && verify(null, data, key, bytes));
}
