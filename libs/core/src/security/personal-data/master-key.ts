import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MasterKeyError } from './personal-data.errors.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Keeps data keys at rest: wrapped with AES-256-GCM under the master key
 * (`m1.<base64>`), or, without one, in clear (`p1.<base64>`). Without a master
 * key, whoever reads the database reads the keys beside the data: forgetting
 * still works (the key is deleted), confidentiality at rest does not.
 */
export class MasterKey {
  private constructor(private readonly key: Buffer | undefined) {}

  /** From base64 text (32 bytes), or none when `text` is undefined or empty. */
  static from(text: string | undefined): MasterKey {
    if (text === undefined || text.trim() === '')
      return new MasterKey(undefined);
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== KEY_BYTES || key.toString('base64') !== text.trim()) {
      throw new MasterKeyError(
        `it decodes to ${key.length} bytes, or is not plain base64`,
      );
    }
    return new MasterKey(key);
  }

  get configured(): boolean {
    return this.key !== undefined;
  }

  /** A new random data key. */
  static newDataKey(): Buffer {
    return randomBytes(KEY_BYTES);
  }

  wrap(dataKey: Buffer): string {
    if (!this.key) return `p1.${dataKey.toString('base64')}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([
      iv,
      cipher.update(dataKey),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `m1.${body.toString('base64')}`;
  }

  /** The data key; throws (a reason) when it cannot be unwrapped with this master key. */
  unwrap(stored: string): Buffer {
    if (stored.startsWith('p1.')) return Buffer.from(stored.slice(3), 'base64');
    if (!stored.startsWith('m1.'))
      throw new Error('the stored key has an unknown format');
    if (!this.key) {
      throw new Error(
        'its key is wrapped with a master key but none is configured (personalData.masterKey or CHRONICLE_MASTER_KEY)',
      );
    }
    const body = Buffer.from(stored.slice(3), 'base64');
    const decipher = createDecipheriv(
      'aes-256-gcm',
      this.key,
      body.subarray(0, IV_BYTES),
    );
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new Error(
        'its key does not unwrap with the configured master key (a different master key than the one it was written with?)',
      );
    }
  }
}
