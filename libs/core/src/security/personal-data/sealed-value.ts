import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/*
 * A sealed field is `{ "$enc": "v1.<key id>.<base64url of iv | ciphertext | tag>" }`:
 * AES-256-GCM of the value's JSON text, a random 12-byte IV each time, the
 * key id as additional data (a ciphertext moved under another key id fails).
 * The object form cannot be mistaken for a string a user stored, and readers
 * find sealed fields without knowing the event's class.
 */
const MARK = '$enc';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

export interface SealedValue {
  readonly [MARK]: string;
}

/** Whether a payload value is a sealed field. */
export function isSealed(value: unknown): value is SealedValue {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[MARK] === 'string'
  );
}

/** Encrypts a JSON value with a 32-byte data key. */
export function seal(value: unknown, keyId: string, key: Buffer): SealedValue {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(keyId));
  const body = Buffer.concat([
    iv,
    cipher.update(JSON.stringify(value), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return { [MARK]: `${VERSION}.${keyId}.${body.toString('base64url')}` };
}

/** The key id a sealed value names, or undefined when its text is not of a known format. */
export function keyIdOf(sealed: SealedValue): string | undefined {
  const text = sealed[MARK];
  if (!text.startsWith(`${VERSION}.`)) return undefined;
  const end = text.indexOf('.', VERSION.length + 1);
  return end < 0 ? undefined : text.slice(VERSION.length + 1, end);
}

/** Decrypts a sealed value; throws (a reason) when it was damaged or the key is wrong. */
export function open(sealed: SealedValue, key: Buffer): unknown {
  const text = sealed[MARK];
  const keyId = keyIdOf(sealed);
  if (keyId === undefined)
    throw new Error(`unknown format '${text.slice(0, 8)}'`);
  const body = Buffer.from(
    text.slice(VERSION.length + 2 + keyId.length),
    'base64url',
  );
  if (body.length < IV_BYTES + TAG_BYTES)
    throw new Error('ciphertext too short');
  const decipher = createDecipheriv(ALGORITHM, key, body.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(keyId));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  const plain = Buffer.concat([
    decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
    decipher.final(),
  ]);
  return JSON.parse(plain.toString('utf8')) as unknown;
}
