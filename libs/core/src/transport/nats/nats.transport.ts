import {
  connect,
  headers as natsHeaders,
  nkeyAuthenticator,
  type ConnectionOptions,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import {
  NoHandlerError,
  TimeoutError,
  TransportError,
} from '../transport.errors.js';
import {
  Transport,
  type RequestListener,
  type TransportStatus,
  type WireMessage,
} from '../transport.js';
import type { NatsTransportOptions } from './nats-transport.options.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The transport over NATS core request-reply. Subscriptions use queue groups,
 * so NATS spreads requests over an app's instances. While disconnected,
 * requests fail at once with `TransportError`; the client reconnects by itself
 * and re-subscribes.
 */
export class NatsTransport extends Transport {
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private connected = true;
  private draining = false;
  private reconnects = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly onError: (error: unknown) => void,
  ) {
    super();
    void this.watch();
  }

  static async connect(
    options: NatsTransportOptions,
    onError: (error: unknown) => void = () => undefined,
  ): Promise<NatsTransport> {
    const nc = await connect(toConnectionOptions(options)).catch(
      (error: unknown) => {
        throw new TransportError(
          `Could not connect to NATS at ${String(toConnectionOptions(options).servers)}: ${(error as Error).message}`,
          { cause: error },
        );
      },
    );
    return new NatsTransport(nc, onError);
  }

  async request(
    subject: string,
    message: WireMessage,
    options: { timeoutMs: number; messageType: string },
  ): Promise<WireMessage> {
    this.assertUsable();
    try {
      const reply = await this.nc.request(
        subject,
        encoder.encode(message.body),
        {
          timeout: options.timeoutMs,
          headers: toHeaders(message.headers),
        },
      );
      return fromMsg(reply);
    } catch (error) {
      throw this.requestError(error, options);
    }
  }

  async publish(subject: string, message: WireMessage): Promise<void> {
    this.assertUsable();
    this.nc.publish(subject, encoder.encode(message.body), {
      headers: toHeaders(message.headers),
    });
  }

  async serve(
    subject: string,
    queue: string,
    listener: RequestListener,
  ): Promise<void> {
    const subscription = this.nc.subscribe(subject, {
      queue,
      callback: (error, msg) => {
        if (error) return this.onError(error);
        const work = listener(fromMsg(msg), Boolean(msg.reply)).then(
          (reply) => {
            if (msg.reply && !this.nc.isClosed()) {
              msg.respond(encoder.encode(reply.body), {
                headers: toHeaders(reply.headers),
              });
            }
          },
        );
        this.inFlight.add(work);
        void work
          .catch((e: unknown) => this.onError(e))
          .finally(() => this.inFlight.delete(work));
      },
    });
    this.subscriptions.push(subscription);
    // Make sure the server has the interest before callers are told we serve.
    await this.nc.flush();
  }

  async drain(): Promise<void> {
    if (this.draining || this.nc.isClosed()) return;
    this.draining = true;
    // No new requests reach this instance; the ones already here are answered.
    await Promise.allSettled(this.subscriptions.map((s) => s.drain()));
    await Promise.allSettled(this.inFlight);
  }

  async close(): Promise<void> {
    await this.drain();
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  status(): TransportStatus {
    return {
      kind: 'nats',
      connected: this.connected && !this.nc.isClosed(),
      server: this.nc.getServer(),
      reconnects: this.reconnects,
    };
  }

  async onBroadcast(topic: string, listener: () => void): Promise<() => void> {
    const subscription = this.nc.subscribe(topic, {
      callback: () => listener(),
    });
    await this.nc.flush();
    return () => subscription.unsubscribe();
  }

  broadcast(topic: string): void {
    if (this.connected && !this.nc.isClosed() && !this.nc.isDraining())
      this.nc.publish(topic);
  }

  private assertUsable(): void {
    if (this.nc.isClosed() || this.nc.isDraining()) {
      throw new TransportError('The NATS connection is closed.');
    }
    if (!this.connected) {
      throw new TransportError(
        'Disconnected from NATS; reconnecting. The message was not sent: try again shortly.',
      );
    }
  }

  private requestError(
    error: unknown,
    options: { timeoutMs: number; messageType: string },
  ): Error {
    const e = error as Error & {
      isNoResponders?: () => boolean;
      cause?: unknown;
    };
    if (
      e.isNoResponders?.() ||
      e.cause?.constructor?.name === 'NoRespondersError'
    ) {
      return new NoHandlerError(options.messageType);
    }
    if (
      e.name === 'TimeoutError' ||
      e.cause?.constructor?.name === 'TimeoutError'
    ) {
      return this.connected
        ? new TimeoutError(options.messageType, options.timeoutMs)
        : new TransportError(
            'Disconnected from NATS while waiting for the reply.',
          );
    }
    return new TransportError(`NATS request failed: ${e.message}`, {
      cause: error,
    });
  }

  /** Follows the connection's status so requests can fail fast while it is down. */
  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.connected = false;
      if (status.type === 'reconnect') {
        this.connected = true;
        this.reconnects++;
      }
    }
  }
}

export function natsServers(options: NatsTransportOptions): string[] {
  const servers =
    options.servers ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  return (typeof servers === 'string' ? servers.split(',') : [...servers])
    .map((s) => s.trim())
    .filter(Boolean);
}

function toConnectionOptions(options: NatsTransportOptions): ConnectionOptions {
  const connection: ConnectionOptions = {
    servers: natsServers(options),
    name: options.name,
    maxReconnectAttempts: -1,
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

function toHeaders(values: Readonly<Record<string, string>>): MsgHdrs {
  const h = natsHeaders();
  for (const [key, value] of Object.entries(values)) h.set(key, value);
  return h;
}

function fromMsg(msg: Msg): WireMessage {
  const headers: Record<string, string> = {};
  if (msg.headers) {
    for (const [key, values] of msg.headers) headers[key] = values[0];
  }
  return { headers, body: decoder.decode(msg.data) };
}
