import { Logger } from '@nestjs/common';
import {
  connect,
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { checkEncodedRequestFits, checkRequestFits } from '../payload-size.js';
import {
  InDoubtError,
  NoHandlerError,
  NotPermittedError,
  TimeoutError,
  TransportError,
} from '../transport.errors.js';
import { requestUntilTaken } from '../request-tries.js';
import { ServeQueue } from '../serve-queue.js';
import {
  Transport,
  type MessageListener,
  type RequestListener,
  type ServedLoad,
  type ServeLimits,
  type TransportStatus,
  type WireMessage,
} from '../transport.js';
import { redactUrl } from '../../redaction/index.js';
import { messageIdOf } from '../wire-format.js';
import { ConnectionMonitor } from './connection-monitor.js';
import { EncodedHeaders, headersOf } from './nats-headers.js';
import { ReplyInbox, type NoReply } from './reply-inbox.js';
import { toConnectionOptions } from './nats-connection-options.js';
import { describeNatsAuth } from './nats-credentials.js';
import type { NatsTransportOptions } from './nats-transport.options.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface RequestOptions {
  readonly timeoutMs: number;
  readonly messageType: string;
}

/**
 * The transport over NATS core request-reply. Subscriptions use queue groups,
 * so NATS spreads requests over the members of a group. While disconnected,
 * sends fail at once with `TransportError` (not sent), and requests in flight
 * when the connection drops fail at once with `InDoubtError`. The client
 * reconnects by itself, for ever (also through authorization errors), and
 * re-subscribes.
 */
export class NatsTransport extends Transport {
  private readonly subscriptions: Subscription[] = [];
  private readonly queues: ServeQueue[] = [];
  private readonly presences: Subscription[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Requests waiting for their replies; failed at once when the connection drops. */
  private readonly replies: ReplyInbox<{
    readonly messageType: string;
    readonly messageId: string;
  }>;
  private readonly monitor: ConnectionMonitor;
  private presenceInbox?: {
    readonly subject: string;
    readonly listeners: Map<string, (app: string) => void>;
  };
  private draining = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly onError: (error: unknown) => void,
    logger: Pick<Logger, 'warn'>,
  ) {
    super();
    this.replies = new ReplyInbox(nc);
    this.monitor = new ConnectionMonitor(
      nc,
      logger,
      () => this.failWaiting(),
      ({ operation, subject }) => {
        if (operation === 'publish') this.failRefused(subject);
      },
    );
    void this.monitor.watch();
    // A connection closed for good answers none of them either.
    void nc.closed().then(() => this.failWaiting());
  }

  static async connect(
    options: NatsTransportOptions,
    onError: (error: unknown) => void = () => undefined,
    logger: Pick<Logger, 'warn'> = new Logger('Chronicle NATS'),
  ): Promise<NatsTransport> {
    const { connection, auth } = toConnectionOptions(options);
    const nc = await connect(connection).catch((error: unknown) => {
      throw new TransportError(
        `Could not connect to NATS at ${auth.servers.map(redactUrl).join(',')} ` +
          `(${describeNatsAuth(auth)}): ${(error as Error).message}`,
        { cause: error },
      );
    });
    return new NatsTransport(nc, onError, logger);
  }

  request(
    subject: string,
    message: WireMessage,
    options: RequestOptions,
  ): Promise<WireMessage> {
    return requestUntilTaken(message, options, (attempt, timeoutMs) =>
      this.requestOnce(subject, attempt, { ...options, timeoutMs }),
    );
  }

  private async requestOnce(
    subject: string,
    message: WireMessage,
    options: RequestOptions,
  ): Promise<WireMessage> {
    const messageId = messageIdOf(message);
    this.assertUsable(messageId);
    const headers = new EncodedHeaders(message.headers);
    const data = encoder.encode(message.body);
    // The bytes NATS counts against max_payload, as wireSizeOf counts them.
    checkEncodedRequestFits(
      headers.size + data.length,
      this.maxPayloadBytes(),
      options.messageType,
      messageId,
    );
    try {
      return fromMsg(
        await this.replies.request(
          subject,
          data,
          { timeoutMs: options.timeoutMs, headers },
          { messageType: options.messageType, messageId },
        ),
      );
    } catch (error) {
      throw this.requestError(error as NoReply | Error, options, messageId);
    }
  }

  async publish(subject: string, message: WireMessage): Promise<void> {
    this.assertUsable(messageIdOf(message));
    checkRequestFits(message, this.maxPayloadBytes());
    this.nc.publish(subject, encoder.encode(message.body), {
      headers: new EncodedHeaders(message.headers),
    });
  }

  async serve(
    subject: string,
    queue: string,
    listener: RequestListener,
    limits?: ServeLimits,
  ): Promise<void> {
    const served = new ServeQueue(subject, listener, limits);
    this.queues.push(served);
    const subscription = this.nc.subscribe(subject, {
      queue,
      callback: (error, msg) => {
        if (error) return this.onError(error);
        this.answer(msg, served);
      },
    });
    this.subscriptions.push(subscription);
    // Make sure the server has the interest before callers are told we serve.
    await this.nc.flush();
    this.assertSubscribed(subscription, subject);
  }

  async subscribe(
    subject: string,
    queue: string,
    listener: MessageListener,
  ): Promise<void> {
    const subscription = this.nc.subscribe(subject, {
      queue,
      callback: (error, msg) => {
        if (error) return this.onError(error);
        const work = Promise.resolve()
          .then(() => listener(fromMsg(msg)))
          .catch((failure: unknown) => this.onError(failure));
        this.inFlight.add(work);
        void work.then(() => this.inFlight.delete(work));
      },
    });
    this.subscriptions.push(subscription);
    await this.nc.flush();
    this.assertSubscribed(subscription, subject);
  }

  /**
   * Presence on `subject`: this app answers every newcomer with its name, and
   * says hello once (the apps already there answer to a shared inbox).
   */
  async announce(
    subject: string,
    app: string,
    onOther: (app: string) => void,
  ): Promise<void> {
    const hear = (other: string | undefined) => {
      if (other !== undefined && other !== app) onOther(other);
    };
    this.presences.push(
      this.nc.subscribe(subject, {
        callback: (error, msg) => {
          if (error) return;
          hear(presenceOf(msg).app);
          if (msg.reply) msg.respond(presenceBody(app, subject));
        },
      }),
    );
    const inbox = this.ensurePresenceInbox();
    inbox.listeners.set(subject, hear);
    this.nc.publish(subject, presenceBody(app, subject), {
      reply: inbox.subject,
    });
    await this.nc.flush();
  }

  async drain(): Promise<void> {
    if (this.draining || this.nc.isClosed()) return;
    this.draining = true;
    for (const presence of this.presences) presence.unsubscribe();
    // No new requests reach this instance; the ones already here are answered.
    // While disconnected there is no server to drain with: just stop listening.
    await Promise.allSettled(
      this.subscriptions.map((s) =>
        this.monitor.connected ? s.drain() : s.unsubscribe(),
      ),
    );
    await Promise.allSettled(this.inFlight);
  }

  async close(): Promise<void> {
    await this.drain();
    this.monitor.closingOnPurpose();
    if (this.nc.isClosed()) return;
    if (this.monitor.connected)
      await this.nc.drain().catch(() => this.nc.close());
    else await this.nc.close();
  }

  status(): TransportStatus {
    const { connected, reconnects, lastError, disconnectedSince } =
      this.monitor;
    return {
      kind: 'nats',
      connected: connected && !this.nc.isClosed(),
      closed: this.nc.isClosed(),
      server: redactUrl(this.nc.getServer()),
      reconnects,
      ...(lastError ? { lastError } : {}),
      ...(disconnectedSince ? { disconnectedSince } : {}),
    };
  }

  /** The `max_payload` of the server connected to now (servers of a cluster may differ). */
  override maxPayloadBytes(): number | undefined {
    return this.nc.info?.max_payload;
  }

  async onBroadcast(
    topic: string,
    listener: (body: string) => void,
  ): Promise<() => void> {
    const subscription = this.nc.subscribe(topic, {
      callback: (error, msg) => {
        if (!error) listener(decoder.decode(msg.data));
      },
    });
    await this.nc.flush();
    return () => subscription.unsubscribe();
  }

  broadcast(topic: string, body?: string): void {
    if (this.monitor.connected && !this.nc.isClosed() && !this.nc.isDraining())
      this.nc.publish(topic, body ? encoder.encode(body) : undefined);
  }

  load(): readonly ServedLoad[] {
    return this.queues.map((queue) => queue.load());
  }

  private answer(msg: Msg, served: ServeQueue): void {
    const work = this.reply(msg, served);
    this.inFlight.add(work);
    void work.then(() => this.inFlight.delete(work));
  }

  /** Runs the request and sends its reply; never rejects (failures go to `onError`). */
  private async reply(msg: Msg, served: ServeQueue): Promise<void> {
    try {
      const reply = await served.offer(fromMsg(msg), Boolean(msg.reply));
      if (msg.reply && !this.nc.isClosed()) {
        msg.respond(encoder.encode(reply.body), {
          headers: new EncodedHeaders(reply.headers),
        });
      }
    } catch (error) {
      this.onError(error);
    }
  }

  /** Fails every request waiting for a reply: the connection it went out on is gone. */
  private failWaiting(): void {
    this.replies.failAll(
      ({ messageType, messageId }) => new InDoubtError(messageType, messageId),
    );
  }

  /** Fails the requests to a subject NATS refused this app: no reply will come. */
  private failRefused(subject: string): void {
    this.replies.failSubject(
      subject,
      ({ messageType, messageId }) =>
        new NotPermittedError('publish', subject, { messageType, messageId }),
    );
  }

  private ensurePresenceInbox() {
    if (this.presenceInbox) return this.presenceInbox;
    const listeners = new Map<string, (app: string | undefined) => void>();
    const subject = createInbox();
    this.presences.push(
      this.nc.subscribe(subject, {
        callback: (error, msg) => {
          if (error) return;
          const { app, subject: served } = presenceOf(msg);
          if (served) listeners.get(served)?.(app);
        },
      }),
    );
    this.presenceInbox = { subject, listeners };
    return this.presenceInbox;
  }

  /**
   * A subscription NATS refused (no permission) is closed by the time the
   * flush returns, since the server answers in order: the start stops with
   * the subject named, rather than an app that serves nothing.
   */
  private assertSubscribed(subscription: Subscription, subject: string): void {
    if (subscription.isClosed())
      throw new NotPermittedError('subscribe', subject);
  }

  private assertUsable(messageId: string): void {
    if (this.nc.isClosed() || this.nc.isDraining()) {
      throw new TransportError(
        `The NATS connection is closed: message ${messageId} was not sent.`,
        { messageId },
      );
    }
    if (!this.monitor.connected) {
      throw new TransportError(
        `Disconnected from NATS; reconnecting. Message ${messageId} was not sent: try again shortly.`,
        { messageId },
      );
    }
  }

  private requestError(
    error: NoReply | Error,
    options: RequestOptions,
    messageId: string,
  ): Error {
    if (error instanceof InDoubtError || error instanceof NotPermittedError)
      return error;
    if (error === 'no-responders') {
      return new NoHandlerError(options.messageType, messageId);
    }
    const timedOut = error === 'timeout';
    if (timedOut && this.monitor.connected) {
      return new TimeoutError(
        options.messageType,
        options.timeoutMs,
        messageId,
      );
    }
    if (timedOut || this.nc.isClosed() || !this.monitor.connected) {
      // The request went out on a connection that is gone since.
      return new InDoubtError(
        options.messageType,
        messageId,
        'The connection to NATS closed while waiting for the reply',
      );
    }
    return new TransportError(
      `NATS request for message ${messageId} failed: ${(error as Error).message}`,
      { cause: error, messageId },
    );
  }
}

function presenceBody(app: string, subject: string): Uint8Array {
  return encoder.encode(JSON.stringify({ app, subject }));
}

function presenceOf(msg: Msg): { app?: string; subject?: string } {
  try {
    const body = JSON.parse(decoder.decode(msg.data)) as {
      app?: unknown;
      subject?: unknown;
    };
    return {
      app: typeof body.app === 'string' ? body.app : undefined,
      subject: typeof body.subject === 'string' ? body.subject : undefined,
    };
  } catch {
    return {};
  }
}

function fromMsg(msg: Msg): WireMessage {
  return { headers: headersOf(msg), body: decoder.decode(msg.data) };
}
