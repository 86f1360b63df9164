import {
  credsAuthenticator,
  nkeyAuthenticator,
  type ConnectionOptions,
} from '@nats-io/transport-node';
import {
  readCredsFile,
  resolveNatsAuth,
  type NatsAuth,
} from './nats-credentials.js';
import { NatsConfigurationError } from '../transport.errors.js';
import type { NatsTransportOptions } from './nats-transport.options.js';

const encoder = new TextEncoder();

/** The server list as configured (user info included): the options', else `NATS_URL`'s. */
export function natsServers(
  options: NatsTransportOptions,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const servers = options.servers ?? env.NATS_URL ?? 'nats://127.0.0.1:4222';
  return (typeof servers === 'string' ? servers.split(',') : [...servers])
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The client's options (Chronicle's defaults, then the user's, then the
 * credentials), and how it authenticates.
 */
export function toConnectionOptions(
  options: NatsTransportOptions,
  env: NodeJS.ProcessEnv = process.env,
): { connection: ConnectionOptions; auth: NatsAuth } {
  const auth = resolveNatsAuth(natsServers(options, env), options, env);
  const connection: ConnectionOptions = {
    servers: auth.servers,
    name: options.name,
    maxReconnectAttempts: -1,
    // The client gives up after two identical authorization errors in a row:
    // credentials changed on the server would then kill the app for good.
    // Keep trying, as with any other outage; the status is logged and in health.
    ignoreAuthErrorAbort: true,
    // Chronicle replaces the client's errors with its own, so the stack traces
    // it would capture on every request are never read.
    noAsyncTraces: true,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
  };
  applyCredentials(connection, auth.credentials);
  const tls = options.tls ?? tlsFromEnvironment(env);
  if (tls) connection.tls = tls === true ? {} : { ...tls };
  return { connection, auth };
}

/**
 * TLS from the environment, when the options say nothing: `NATS_TLS_CA` (a
 * CA file to trust), `NATS_TLS_CERT` and `NATS_TLS_KEY` (the client's
 * certificate and key, for a server that verifies clients). Any of them
 * turns TLS on; a certificate goes with its key.
 */
function tlsFromEnvironment(
  env: NodeJS.ProcessEnv,
): NatsTransportOptions['tls'] {
  const caFile = env.NATS_TLS_CA || undefined;
  const certFile = env.NATS_TLS_CERT || undefined;
  const keyFile = env.NATS_TLS_KEY || undefined;
  if (!caFile && !certFile && !keyFile) return undefined;
  if (Boolean(certFile) !== Boolean(keyFile))
    throw new NatsConfigurationError(
      `NATS_TLS_${certFile ? 'KEY' : 'CERT'} is not set: NATS_TLS_CERT and NATS_TLS_KEY go together ` +
        "(the client's certificate and its private key).",
    );
  return {
    ...(caFile ? { caFile } : {}),
    ...(certFile ? { certFile } : {}),
    ...(keyFile ? { keyFile } : {}),
  };
}

function applyCredentials(
  connection: ConnectionOptions,
  credentials: NatsAuth['credentials'],
): void {
  switch (credentials.kind) {
    case 'token':
      connection.token = credentials.token;
      return;
    case 'user':
      connection.user = credentials.user;
      connection.pass = credentials.pass;
      return;
    case 'nkey':
      connection.authenticator = nkeyAuthenticator(
        encoder.encode(credentials.seed),
      );
      return;
    case 'creds': {
      const { file } = credentials;
      readCredsFile(file);
      // Read again on every (re)connect: a rotated file is picked up.
      connection.authenticator = credsAuthenticator(() => readCredsFile(file));
      return;
    }
    case 'none':
      return;
  }
}
