import {
  nkeyAuthenticator,
  type ConnectionOptions,
} from '@nats-io/transport-node';
import type { NatsTransportOptions } from './nats-transport.options.js';

const encoder = new TextEncoder();

export function natsServers(options: NatsTransportOptions): string[] {
  const servers =
    options.servers ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  return (typeof servers === 'string' ? servers.split(',') : [...servers])
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The client's options: Chronicle's defaults, then the user's. */
export function toConnectionOptions(
  options: NatsTransportOptions,
): ConnectionOptions {
  const connection: ConnectionOptions = {
    servers: natsServers(options),
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
  if (options.token) connection.token = options.token;
  if (options.user) {
    connection.user = options.user;
    connection.pass = options.pass;
  }
  if (options.nkeySeed) {
    connection.authenticator = nkeyAuthenticator(
      encoder.encode(options.nkeySeed),
    );
  }
  if (options.tls)
    connection.tls = options.tls === true ? {} : { ...options.tls };
  return connection;
}
