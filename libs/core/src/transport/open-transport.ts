import { LocalTransport } from './local/local.transport.js';
import { NatsTransport } from './nats/nats.transport.js';
import type { Transport } from './transport.js';
import type { TransportOptions } from './transport.options.js';

/**
 * Picks the transport: NATS when configured (or when `NATS_URL` is set and
 * `local` is not), else in process.
 */
export async function openTransport(
  options: TransportOptions = {},
  connectionName: string,
  onError: (error: unknown) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Transport> {
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
