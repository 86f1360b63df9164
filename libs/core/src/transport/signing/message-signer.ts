import { createHmac, timingSafeEqual } from 'node:crypto';
import { HEADER } from '../wire-format.js';
import type { WireMessage } from '../transport.js';
import { fingerprintOf, PairKeys } from './pair-keys.js';
import { signBytes, verifyBytes } from './signing-keys.js';
import type { ResolvedSigning } from './signing.options.js';
import {
  MessageSignatureError,
  SigningConfigurationError,
  type SignatureRefusal,
} from './signing.errors.js';

/**
 * `v1 <app> <public key> <signed at, ms> <signature>` (ed25519), or
 * `v2 <app> <public key> <signed at, ms> <fingerprint>:<tag>,...` (one
 * HMAC-SHA256 tag, 16 bytes, per key that may receive it, under the key the
 * sender shares with that key's holder); base64url but the app and the time.
 */
export const SIGNATURE_HEADER = 'Chronicle-Signature';

/** Bytes of a v2 tag: HMAC-SHA256 truncated, 128 bits as a forgery bound. */
const TAG_BYTES = 16;

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
  | {
      readonly kind: 'reply';
      readonly requestId: string;
      /**
       * The public key that signed the request, when it was verified: a v2
       * reply is tagged for it alone. Without it (a refused request), for
       * every trusted key.
       */
      readonly to?: string;
    }
  | { readonly kind: 'publish' };

/** A verified signature: who signed, with which key, and what is unique per signing. */
export interface VerifiedSignature {
  readonly app: string;
  readonly publicKey: string;
  /** v1: the signature; v2: this app's tag (what the replay guard keeps). */
  readonly signature: string;
  readonly signedAt: number;
}

/** Signs what this app sends and verifies what it receives (see `SigningOptions`). */
export class MessageSigner {
  private readonly pairs: PairKeys;
  private readonly ownFingerprint: string;

  constructor(
    private readonly signing: ResolvedSigning,
    private readonly now: () => number = Date.now,
  ) {
    this.pairs = new PairKeys(signing.key);
    this.ownFingerprint = fingerprintOf(signing.key.publicKey);
    const fingerprints = new Set<string>();
    for (const publicKey of signing.trusted.keys()) {
      const fingerprint = fingerprintOf(publicKey);
      if (fingerprints.has(fingerprint)) {
        throw new SigningConfigurationError(
          `Two trusted keys start with ${fingerprint}, the name a v2 tag gives a key: replace one (npx chronicle keygen).`,
        );
      }
      fingerprints.add(fingerprint);
      // Derived at start, so a key with no agreement is refused here and
      // the first messages pay nothing.
      this.pairs.with(publicKey);
    }
  }

  get maxSkewMs(): number {
    return this.signing.maxSkewMs;
  }

  async sign(
    message: WireMessage,
    binding: SignatureBinding,
  ): Promise<WireMessage> {
    const { app, key } = this.signing;
    const at = this.now();
    const text = signedText(binding, app, at, message);
    let header: string;
    if (this.signing.scheme === 'signatures') {
      const signature = await signBytes(key.privateKey, Buffer.from(text));
      header = `v1 ${app} ${key.publicKey} ${at} ${signature}`;
    } else {
      // A reply goes to the one key that asked; anything else may be served
      // or heard by any trusted app, this one included.
      const to =
        binding.kind === 'reply' &&
        binding.to !== undefined &&
        this.signing.trusted.has(binding.to)
          ? [binding.to]
          : this.signing.trusted.keys();
      const tags: string[] = [];
      for (const publicKey of to)
        tags.push(
          `${fingerprintOf(publicKey)}:${this.tag(publicKey, text).toString('base64url')}`,
        );
      header = `v2 ${app} ${key.publicKey} ${at} ${tags.join(',')}`;
    }
    return {
      headers: { ...message.headers, [SIGNATURE_HEADER]: header },
      body: message.body,
    };
  }

  /** The v2 tag of the signed text (hashed as UTF-8, as v1 signs it). */
  private tag(publicKey: string, text: string): Buffer {
    return createHmac('sha256', this.pairs.with(publicKey))
      .update(text, 'utf8')
      .digest()
      .subarray(0, TAG_BYTES);
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
    if (
      parts.length !== 5 ||
      (parts[0] !== 'v1' && parts[0] !== 'v2') ||
      !/^\d{1,15}$/.test(parts[3])
    )
      throw refuse(
        'malformed',
        `its ${SIGNATURE_HEADER} header cannot be read`,
      );
    const [version, app, publicKey, at, signature] = parts;
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
    const text = signedText(binding, app, signedAt, message);
    let proof = signature;
    if (version === 'v1') {
      if (!(await verifyBytes(trusted.key, Buffer.from(text), signature)))
        throw refuse(
          'bad-signature',
          `its signature by "${app}" does not match its content (altered on the way, or signed for another subject or request)`,
        );
    } else {
      const tag = this.ownTag(signature);
      if (tag === null)
        throw refuse(
          'malformed',
          `its ${SIGNATURE_HEADER} header's tags cannot be read`,
        );
      if (tag === undefined)
        throw refuse(
          'unsigned',
          `"${app}" tagged it for other keys, not for this app's (${this.ownFingerprint}): it was meant for another app, or "${app}" does not trust this app's key yet`,
        );
      const expected = this.tag(publicKey, text);
      const given = Buffer.from(tag, 'base64url');
      if (given.length !== TAG_BYTES || !timingSafeEqual(given, expected))
        throw refuse(
          'bad-signature',
          `its tag from "${app}" does not match its content (altered on the way, signed for another subject or request, or a tag made for another app)`,
        );
      proof = tag;
    }
    return { app, publicKey, signature: proof, signedAt };
  }

  /** This app's tag in v2 `tags`; undefined when absent, null when they cannot be read. */
  private ownTag(tags: string): string | undefined | null {
    let own: string | undefined;
    for (const entry of tags.split(',')) {
      const [fingerprint, tag, extra] = entry.split(':');
      if (tag === undefined || extra !== undefined) return null;
      if (fingerprint !== this.ownFingerprint) continue;
      // Two tags for one key: which one counts would be the sender's choice.
      if (own !== undefined) return null;
      own = tag;
    }
    return own;
  }
}

/**
 * What a signature covers, as text (signed as its UTF-8 bytes): the scheme's
 * name, the binding, the signer, the time, every signed header sorted by name
 * as JSON strings, and the body. Both schemes and every version of Chronicle
 * that speaks them must print exactly this.
 */
export function signedText(
  binding: SignatureBinding,
  app: string,
  at: number,
  message: WireMessage,
): string {
  const bound =
    binding.kind === 'request'
      ? `request ${binding.subject}`
      : binding.kind === 'reply'
        ? `reply ${binding.requestId}`
        : 'publish';
  // A loop, not filter/map/join: this runs for every message sent and taken.
  const names = Object.keys(message.headers);
  names.sort();
  let headers = '';
  for (const name of names) {
    if (UNSIGNED.has(name)) continue;
    if (headers !== '') headers += '\n';
    headers += quotedName(name) + jsonString(message.headers[name]);
  }
  return `chronicle-signature-v1\n${bound}\n${app}\n${at}\n${headers}\n\n${message.body}`;
}

/** Printable ASCII but `"` and `\`: what JSON.stringify prints unchanged. */
const UNESCAPED = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON.stringify(text), without its general path for the usual header value. */
export function jsonString(text: string): string {
  return typeof text === 'string' && UNESCAPED.test(text)
    ? `"${text}"`
    : String(JSON.stringify(text));
}

/** Header names are few and repeat on every message: each quoted once. */
const quotedNames = new Map<string, string>();
const QUOTED_NAMES_LIMIT = 512;

function quotedName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = `${jsonString(name)}:`;
    // Names a sender made up (custom headers) must not grow this forever.
    if (quotedNames.size < QUOTED_NAMES_LIMIT) quotedNames.set(name, quoted);
  }
  return quoted;
}
