import { HEADER } from '../wire-format.js';
import type { WireMessage } from '../transport.js';
import { signBytes, verifyBytes } from './signing-keys.js';
import type { ResolvedSigning } from './signing.options.js';
import {
  MessageSignatureError,
  type SignatureRefusal,
} from './signing.errors.js';

/** `v1 <app> <public key> <signed at, ms> <signature>`, all base64url but the app and the time. */
export const SIGNATURE_HEADER = 'Chronicle-Signature';

// Set by the transport itself after signing, per try: not signed. (The time
// a caller still waits: altered, a request would only be given up sooner.)
const UNSIGNED: ReadonlySet<string> = new Set([
  SIGNATURE_HEADER,
  HEADER.timeoutMs,
  HEADER.refused,
]);

/**
 * What a signature is bound to besides the message: a request to its subject
 * (it cannot be replayed on another), a reply to its request's id (it cannot
 * answer another request), a published message to nothing more (its type
 * header is signed).
 */
export type SignatureBinding =
  | { readonly kind: 'request'; readonly subject: string }
  | { readonly kind: 'reply'; readonly requestId: string }
  | { readonly kind: 'publish' };

/** A verified signature: who signed, and the signature itself (unique per signing). */
export interface VerifiedSignature {
  readonly app: string;
  readonly signature: string;
  readonly signedAt: number;
}

/** Signs what this app sends and verifies what it receives (see `SigningOptions`). */
export class MessageSigner {
  constructor(
    private readonly signing: ResolvedSigning,
    private readonly now: () => number = Date.now,
  ) {}

  get maxSkewMs(): number {
    return this.signing.maxSkewMs;
  }

  async sign(
    message: WireMessage,
    binding: SignatureBinding,
  ): Promise<WireMessage> {
    const { app, key } = this.signing;
    const at = this.now();
    const signature = await signBytes(
      key.privateKey,
      signedBytes(binding, app, at, message),
    );
    return {
      headers: {
        ...message.headers,
        [SIGNATURE_HEADER]: `v1 ${app} ${key.publicKey} ${at} ${signature}`,
      },
      body: message.body,
    };
  }

  /** Who signed `message`; rejects with `MessageSignatureError` saying why not. */
  async verify(
    message: WireMessage,
    binding: SignatureBinding,
    what: string,
  ): Promise<VerifiedSignature> {
    const id = message.headers[HEADER.id];
    const refuse = (reason: SignatureRefusal, why: string) =>
      new MessageSignatureError(`${what} was refused: ${why}.`, reason, id);
    const header = message.headers[SIGNATURE_HEADER];
    if (header === undefined)
      throw refuse(
        'unsigned',
        'it is not signed, and this app accepts only signed messages',
      );
    const parts = header.split(' ');
    if (parts.length !== 5 || parts[0] !== 'v1' || !/^\d{1,15}$/.test(parts[3]))
      throw refuse(
        'malformed',
        `its ${SIGNATURE_HEADER} header cannot be read`,
      );
    const [, app, publicKey, at, signature] = parts;
    const trusted = this.signing.trusted.get(publicKey);
    if (trusted === undefined)
      throw refuse(
        'untrusted-key',
        `it is signed by a key this app does not trust (${publicKey}, said to be "${app}"'s)`,
      );
    if (trusted.app !== app)
      throw refuse(
        'app-mismatch',
        `it says it comes from "${app}" but is signed with "${trusted.app}"'s key`,
      );
    const sender = message.headers[HEADER.app];
    if (sender !== undefined && sender !== app)
      throw refuse(
        'app-mismatch',
        `its ${HEADER.app} header says "${sender}" but "${app}" signed it`,
      );
    const signedAt = Number(at);
    // Told before any cryptography: a stale message costs no verification.
    const skew = this.now() - signedAt;
    if (Math.abs(skew) > this.signing.maxSkewMs)
      throw refuse(
        'expired',
        `it was signed ${Math.round(skew / 1000)} s from this app's clock, more than the ${this.signing.maxSkewMs / 1000} s allowed (a replay, or clocks apart)`,
      );
    const valid = await verifyBytes(
      trusted.key,
      signedBytes(binding, app, signedAt, message),
      signature,
    );
    if (!valid)
      throw refuse(
        'bad-signature',
        `its signature by "${app}" does not match its content (altered on the way, or signed for another subject or request)`,
      );
    return { app, signature, signedAt };
  }
}

function signedBytes(
  binding: SignatureBinding,
  app: string,
  at: number,
  message: WireMessage,
): Buffer {
  const bound =
    binding.kind === 'request'
      ? `request ${binding.subject}`
      : binding.kind === 'reply'
        ? `reply ${binding.requestId}`
        : 'publish';
  const headers = Object.keys(message.headers)
    .filter((name) => !UNSIGNED.has(name))
    .sort()
    .map(
      (name) =>
        `${JSON.stringify(name)}:${JSON.stringify(message.headers[name])}`,
    )
    .join('\n');
  return Buffer.from(
    `chronicle-signature-v1\n${bound}\n${app}\n${at}\n${headers}\n\n${message.body}`,
  );
}
