import { LocalTransport } from './local/local.transport.js';
import { NatsTransport } from './nats/nats.transport.js';
import type { Transport } from './transport.js';
import type { TransportOptions } from './transport.options.js';
import {
  MessageSigner,
  resolveSigning,
  SigningTransport,
} from './signing/index.js';

/**
 * Set on `globalThis` by a CLI command that starts an app's module only to
 * look at it (`chronicle nats-permissions`): every transport opened in the
 * process is then in process, whatever the app's options say, so the app
 * never joins a real NATS. A global symbol, so that an app's own copy of
 * @chronicle/core obeys it too.
 */
export const IN_PROCESS_ONLY = Symbol.for(
  'chronicle.transport.in-process-only',
);

function inProcessOnly(): boolean {
  return (globalThis as Record<symbol, unknown>)[IN_PROCESS_ONLY] === true;
}

/**
 * Picks the transport: NATS when configured (or when `NATS_URL` is set and
 * `local` is not), else in process; signing when configured (options or
 * `CHRONICLE_SIGNING_KEY`), over either.
 */
export async function openTransport(
  options: TransportOptions = {},
  connectionName: string,
  onError: (error: unknown) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Transport> {
  if (inProcessOnly())
    return new LocalTransport({ maxPayloadBytes: options.maxPayloadBytes });
  // Resolved first: a signing setup that cannot work stops the start before connecting.
  const signing = resolveSigning(connectionName, options.signing, env);
  const transport = await openUnsigned(options, connectionName, onError, env);
  return signing
    ? new SigningTransport(transport, new MessageSigner(signing))
    : transport;
}

async function openUnsigned(
  options: TransportOptions,
  connectionName: string,
  onError: (error: unknown) => void,
  env: NodeJS.ProcessEnv,
): Promise<Transport> {
  if (inProcessOnly())
    return new LocalTransport({ maxPayloadBytes: options.maxPayloadBytes });
  if (options.nats) {
    const nats =
      typeof options.nats === 'string'
        ? { servers: options.nats }
        : options.nats;
    return NatsTransport.connect({ name: connectionName, ...nats }, onError);
  }
  if (!options.local && env.NATS_URL) {
    return NatsTransport.connect(
      { name: connectionName, servers: env.NATS_URL },
      onError,
    );
  }
  return new LocalTransport({ maxPayloadBytes: options.maxPayloadBytes });
}
