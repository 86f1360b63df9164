import type { KeyObject } from 'node:crypto';
import {
  readPrivateKey,
  readPublicKey,
  type SigningKey,
} from './signing-keys.js';
import { SigningConfigurationError } from './signing.errors.js';

/**
 * How messages are signed: `'pairwise'` (v2, the default) tags each message
 * with a MAC per trusted key that may receive it, under a key each pair of
 * apps derives from their ed25519 keys; `'signatures'` (v1) signs it with
 * ed25519, which anyone holding the public key can check (non-repudiation),
 * at several times the CPU. Either way an app accepts both from trusted keys.
 */
export type SigningScheme = 'pairwise' | 'signatures';

/**
 * Signed messages (off by default): this app signs everything it sends over
 * the transport with its ed25519 key (or keys derived from it), and refuses
 * what is not signed by a key trusted for the app it names. See
 * docs/guides/security.md.
 */
export interface SigningOptions {
  /**
   * This app's private key: base64 or base64url of the 32-byte seed (what
   * `npx chronicle keygen` prints), PEM, or a KeyObject. Default:
   * `CHRONICLE_SIGNING_KEY`.
   */
  readonly privateKey?: string | KeyObject;
  /**
   * The public keys trusted per app name, this app's own included: two for an
   * app while its key is rotated. Default: `CHRONICLE_TRUSTED_KEYS`, a JSON
   * object of the same shape.
   */
  readonly trustedKeys?: Readonly<Record<string, string | readonly string[]>>;
  /** How far a signature's time may be from this app's clock, either way, in ms. Default 60,000. */
  readonly maxSkewMs?: number;
  /** `'pairwise'` (default) or `'signatures'`: see `SigningScheme`. */
  readonly scheme?: SigningScheme;
}

/** Signing as an app runs it: its key, the trusted keys by app, the window. */
export interface ResolvedSigning {
  readonly app: string;
  readonly key: SigningKey;
  /** Public key text → the app it is trusted for, and the key. */
  readonly trusted: ReadonlyMap<string, { app: string; key: KeyObject }>;
  readonly maxSkewMs: number;
  readonly scheme: SigningScheme;
}

/**
 * Signing for `app` from options, then the environment; undefined when
 * neither names a key (signing is off). A key without trusted keys, or
 * trusted keys without a key, is refused: half a setup would send unsigned
 * messages to apps that refuse them, or trust nobody.
 */
export function resolveSigning(
  app: string,
  options: SigningOptions | undefined,
  env: NodeJS.ProcessEnv,
): ResolvedSigning | undefined {
  // An empty variable is an unset one (a compose file's `KEY=`).
  const privateKey =
    options?.privateKey ?? (env.CHRONICLE_SIGNING_KEY?.trim() || undefined);
  const trustedKeys = options?.trustedKeys ?? trustedFromEnv(env);
  if (privateKey === undefined && trustedKeys === undefined) return undefined;
  if (privateKey === undefined) {
    throw new SigningConfigurationError(
      `App "${app}" trusts signing keys but has none of its own: set transport.signing.privateKey or CHRONICLE_SIGNING_KEY (npx chronicle keygen makes one).`,
    );
  }
  if (trustedKeys === undefined) {
    throw new SigningConfigurationError(
      `App "${app}" signs messages but trusts no keys: set transport.signing.trustedKeys or CHRONICLE_TRUSTED_KEYS ({"${app}": ["<its public key>"], ...}).`,
    );
  }
  const key =
    typeof privateKey === 'string'
      ? readPrivateKey(privateKey, 'transport.signing.privateKey')
      : readPrivateKey(
          privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
          'transport.signing.privateKey',
        );
  const trusted = new Map<string, { app: string; key: KeyObject }>();
  for (const [trustedApp, keys] of Object.entries(trustedKeys)) {
    for (const text of typeof keys === 'string' ? [keys] : keys) {
      const read = readPublicKey(
        text,
        `transport.signing.trustedKeys["${trustedApp}"]`,
      );
      const other = trusted.get(read.text);
      if (other && other.app !== trustedApp) {
        throw new SigningConfigurationError(
          `One public key is trusted for both "${other.app}" and "${trustedApp}": give each app a key of its own.`,
        );
      }
      trusted.set(read.text, { app: trustedApp, key: read.key });
    }
  }
  if (trusted.get(key.publicKey)?.app !== app) {
    throw new SigningConfigurationError(
      `App "${app}" signs with the key ${key.publicKey}, which its trusted keys do not list for "${app}": the other apps would refuse its messages, and it its own replies.`,
    );
  }
  const maxSkewMs = options?.maxSkewMs ?? 60_000;
  if (!Number.isInteger(maxSkewMs) || maxSkewMs < 1000) {
    throw new SigningConfigurationError(
      `transport.signing.maxSkewMs must be a whole number of ms, at least 1,000, got ${String(maxSkewMs)}.`,
    );
  }
  const scheme = options?.scheme ?? 'pairwise';
  if (scheme !== 'pairwise' && scheme !== 'signatures') {
    throw new SigningConfigurationError(
      `transport.signing.scheme must be 'pairwise' (the default) or 'signatures', got ${JSON.stringify(scheme)}.`,
    );
  }
  return { app, key, trusted, maxSkewMs, scheme };
}

function trustedFromEnv(
  env: NodeJS.ProcessEnv,
): Record<string, string | string[]> | undefined {
  const text = env.CHRONICLE_TRUSTED_KEYS;
  if (text === undefined || text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SigningConfigurationError(
      'CHRONICLE_TRUSTED_KEYS is not JSON: give an object of public keys by app name, {"orders": ["<key>"], "billing": "<key>"}.',
    );
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every(
      (v) =>
        typeof v === 'string' ||
        (Array.isArray(v) && v.every((k) => typeof k === 'string')),
    );
  if (!valid) {
    throw new SigningConfigurationError(
      'CHRONICLE_TRUSTED_KEYS must be an object of public keys by app name: {"orders": ["<key>"], "billing": "<key>"}.',
    );
  }
  return parsed as Record<string, string | string[]>;
}
