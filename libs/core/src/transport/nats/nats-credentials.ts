import { readFileSync } from 'node:fs';
import { redactUrl } from '../../redaction/index.js';
import { NatsConfigurationError } from '../transport.errors.js';
import type { NatsTransportOptions } from './nats-transport.options.js';

/** How this process authenticates to NATS: at most one way. */
export type NatsCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'user'; readonly user: string; readonly pass: string }
  | { readonly kind: 'nkey'; readonly seed: string }
  | { readonly kind: 'creds'; readonly file: string };

/** The servers without their user info, and the credentials to use. */
export interface NatsAuth {
  readonly servers: string[];
  readonly credentials: NatsCredentials;
  /** Where the credentials came from, for messages. */
  readonly source: 'options' | 'url' | 'environment' | 'none';
}

/**
 * Picks the credentials: the options' (`token`, `user`/`pass`, `nkeySeed`,
 * `credsFile`), else the server URLs' user info (`nats://TOKEN@host`,
 * `nats://user:pass@host`), else the environment (`NATS_TOKEN`,
 * `NATS_USER`/`NATS_PASSWORD`, `NATS_NKEY_SEED`, `NATS_CREDS`). The user info
 * is always taken out of the URLs: the client would otherwise ignore it, or
 * read a numeric password as the port.
 */
export function resolveNatsAuth(
  servers: readonly string[],
  options: NatsTransportOptions,
  env: NodeJS.ProcessEnv,
): NatsAuth {
  const parsed = servers.map(splitUserInfo);
  const bare = parsed.map((p) => p.server);
  const fromOptions = credentialsFromOptions(options);
  if (fromOptions.kind !== 'none')
    return { servers: bare, credentials: fromOptions, source: 'options' };
  const fromUrl = credentialsFromUrls(servers, parsed);
  if (fromUrl.kind !== 'none')
    return { servers: bare, credentials: fromUrl, source: 'url' };
  const fromEnv = credentialsFromEnvironment(env);
  return {
    servers: bare,
    credentials: fromEnv,
    source: fromEnv.kind === 'none' ? 'none' : 'environment',
  };
}

/** How the connection authenticates, for messages (never the secret itself). */
export function describeNatsAuth({ credentials, source }: NatsAuth): string {
  if (credentials.kind === 'none') return 'without credentials';
  const what = {
    token: 'a token',
    user: `user "${credentials.kind === 'user' ? credentials.user : ''}" and a password`,
    nkey: 'an nkey seed',
    creds: `the credentials file "${credentials.kind === 'creds' ? credentials.file : ''}"`,
  }[credentials.kind];
  const from = {
    options: 'transport.nats',
    url: 'the server URL',
    environment: 'the environment',
    none: '',
  }[source];
  return `with ${what} from ${from}`;
}

/** Reads a creds file now, so that a wrong path fails at start with its name. */
export function readCredsFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new NatsConfigurationError(
      `Cannot read the NATS credentials file "${file}" (NATS_CREDS or transport.nats.credsFile): ` +
        `${(error as Error).message}. Point it at the .creds file of the app's NATS user.`,
      { cause: error },
    );
  }
}

function credentialsFromOptions(
  options: NatsTransportOptions,
): NatsCredentials {
  const given = [
    options.token !== undefined && 'token',
    (options.user !== undefined || options.pass !== undefined) && 'user/pass',
    options.nkeySeed !== undefined && 'nkeySeed',
    options.credsFile !== undefined && 'credsFile',
  ].filter((name): name is string => Boolean(name));
  if (given.length > 1) {
    throw new NatsConfigurationError(
      `transport.nats sets ${given.join(' and ')}: give one way to authenticate to NATS.`,
    );
  }
  if (options.token !== undefined)
    return { kind: 'token', token: options.token };
  if (options.user !== undefined || options.pass !== undefined) {
    if (options.user === undefined)
      throw new NatsConfigurationError(
        'transport.nats sets `pass` without `user`: set both, or use `token`.',
      );
    return { kind: 'user', user: options.user, pass: options.pass ?? '' };
  }
  if (options.nkeySeed !== undefined)
    return { kind: 'nkey', seed: options.nkeySeed };
  if (options.credsFile !== undefined)
    return { kind: 'creds', file: options.credsFile };
  return { kind: 'none' };
}

interface ParsedServer {
  readonly server: string;
  readonly userInfo?: string;
}

/** `nats://user:pass@host:4222` -> `nats://host:4222` and `user:pass`. */
function splitUserInfo(entry: string): ParsedServer {
  const trimmed = entry.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(trimmed)?.[0] ?? '';
  const rest = trimmed.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at < 0) return { server: trimmed };
  return { server: scheme + rest.slice(at + 1), userInfo: rest.slice(0, at) };
}

function credentialsFromUrls(
  servers: readonly string[],
  parsed: readonly ParsedServer[],
): NatsCredentials {
  const infos = [
    ...new Set(parsed.flatMap((p) => (p.userInfo ? [p.userInfo] : []))),
  ];
  if (infos.length === 0) return { kind: 'none' };
  if (infos.length > 1) {
    throw new NatsConfigurationError(
      `The NATS server URLs carry different credentials (${servers.map(redactUrl).join(', ')}): ` +
        'one connection authenticates one way; give the same user info on each, or on none and ' +
        'set NATS_TOKEN or NATS_USER/NATS_PASSWORD.',
    );
  }
  const [info] = infos;
  const colon = info.indexOf(':');
  // A lone user info is a token, as every NATS client reads it.
  if (colon < 0) return { kind: 'token', token: decode(info, servers) };
  return {
    kind: 'user',
    user: decode(info.slice(0, colon), servers),
    pass: decode(info.slice(colon + 1), servers),
  };
}

function decode(part: string, servers: readonly string[]): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new NatsConfigurationError(
      `The user info of the NATS URL ${servers.map(redactUrl).join(', ')} is not valid percent-encoding: ` +
        'write reserved characters of a token or password as %XX (e.g. %40 for @, %2C for a comma).',
    );
  }
}

function credentialsFromEnvironment(env: NodeJS.ProcessEnv): NatsCredentials {
  // An empty variable counts as unset, as a blank line in an env file does.
  const value = (name: string) => env[name] || undefined;
  const token = value('NATS_TOKEN');
  const user = value('NATS_USER');
  const pass = value('NATS_PASSWORD');
  const seed = value('NATS_NKEY_SEED');
  const file = value('NATS_CREDS');
  const given = [
    token && 'NATS_TOKEN',
    (user || pass) && 'NATS_USER/NATS_PASSWORD',
    seed && 'NATS_NKEY_SEED',
    file && 'NATS_CREDS',
  ].filter((name): name is string => Boolean(name));
  if (given.length > 1) {
    throw new NatsConfigurationError(
      `${given.join(' and ')} are all set: give one way to authenticate to NATS and unset the others.`,
    );
  }
  if (token) return { kind: 'token', token };
  if (user || pass) {
    if (!user || pass === undefined)
      throw new NatsConfigurationError(
        `NATS_${user ? 'PASSWORD' : 'USER'} is not set: NATS_USER and NATS_PASSWORD go together.`,
      );
    return { kind: 'user', user, pass };
  }
  if (seed) return { kind: 'nkey', seed };
  if (file) return { kind: 'creds', file };
  return { kind: 'none' };
}
