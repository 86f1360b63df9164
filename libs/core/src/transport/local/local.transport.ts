import { EventEmitter } from 'node:events';
import {
  NoHandlerError,
  TimeoutError,
  TransportError,
} from '../transport.errors.js';
import { requestUntilTaken } from '../request-tries.js';
import { ServeQueue } from '../serve-queue.js';
import { subjectMatches } from '../subjects.js';
import {
  Transport,
  type MessageListener,
  type RequestListener,
  type ServedLoad,
  type ServeLimits,
  type TransportStatus,
  type WireMessage,
} from '../transport.js';
import { checkRequestFits } from '../payload-size.js';
import { messageIdOf } from '../wire-format.js';

/**
 * The in-process transport: the embedded default. Messages still go through
 * the wire format (strings in, strings out), so what works here works over NATS.
 * It has no size limit unless given one (`maxPayloadBytes`, e.g. the NATS
 * server's, to try what a deployment will refuse).
 */
export class LocalTransport extends Transport {
  private readonly listeners = new Map<string, RequestListener[]>();
  private readonly queues: ServeQueue[] = [];
  private readonly turns = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly broadcasts = new EventEmitter().setMaxListeners(0);
  /** Subscriptions to published messages, by queue group. */
  private readonly groups = new Map<
    string,
    { subject: string; listener: MessageListener }[]
  >();
  private draining = false;

  constructor(private readonly options: { maxPayloadBytes?: number } = {}) {
    super();
    const limit = options.maxPayloadBytes;
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new TransportError(
        `transport.maxPayloadBytes must be a whole number of bytes above 0, got ${String(limit)}.`,
      );
    }
  }

  override maxPayloadBytes(): number | undefined {
    return this.options.maxPayloadBytes;
  }

  request(
    subject: string,
    message: WireMessage,
    options: { timeoutMs: number; messageType: string },
  ): Promise<WireMessage> {
    return requestUntilTaken(message, options, (attempt, timeoutMs) =>
      this.requestOnce(subject, attempt, { ...options, timeoutMs }),
    );
  }

  private async requestOnce(
    subject: string,
    message: WireMessage,
    options: { timeoutMs: number; messageType: string },
  ): Promise<WireMessage> {
    const messageId = messageIdOf(message);
    checkRequestFits(message, this.maxPayloadBytes(), options.messageType);
    const listener = this.pick(subject, options.messageType, messageId);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TimeoutError(options.messageType, options.timeoutMs, messageId),
          ),
        options.timeoutMs,
      );
    });
    try {
      return await Promise.race([
        this.track(listener(copy(message), true)),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * To one member of each queue group subscribed to a matching subject, and
   * to a server of the very subject if there is one; with neither, as a
   * request would be, refused with `NoHandlerError`.
   */
  async publish(subject: string, message: WireMessage): Promise<void> {
    checkRequestFits(message, this.maxPayloadBytes());
    const subscribed = this.deliver(subject, message);
    if (subscribed && !this.listeners.has(subject)) return;
    const listener = this.pick(subject, subject, messageIdOf(message));
    void this.track(listener(copy(message), false)).catch(() => undefined);
  }

  async subscribe(
    subject: string,
    queue: string,
    listener: MessageListener,
  ): Promise<void> {
    this.groups.set(queue, [
      ...(this.groups.get(queue) ?? []),
      { subject, listener },
    ]);
  }

  /** Hands a published message to each matching queue group; whether any matched. */
  private deliver(subject: string, message: WireMessage): boolean {
    if (this.draining) return false;
    let delivered = false;
    for (const [queue, members] of this.groups) {
      const matching = members.filter((m) =>
        subjectMatches(m.subject, subject),
      );
      if (matching.length === 0) continue;
      const key = `${queue}\n${subject}`;
      const turn = this.turns.get(key) ?? 0;
      this.turns.set(key, turn + 1);
      const { listener } = matching[turn % matching.length];
      delivered = true;
      // Not in the publisher's async context, as over NATS.
      setImmediate(() => {
        void this.track(
          Promise.resolve().then(() => listener(copy(message))),
        ).catch(() => undefined);
      });
    }
    return delivered;
  }

  async serve(
    subject: string,
    _queue: string,
    listener: RequestListener,
    limits?: ServeLimits,
  ): Promise<void> {
    const served = new ServeQueue(subject, listener, limits);
    this.queues.push(served);
    this.listeners.set(subject, [
      ...(this.listeners.get(subject) ?? []),
      (request, wantsReply) => served.offer(request, wantsReply),
    ]);
  }

  load(): readonly ServedLoad[] {
    return this.queues.map((queue) => queue.load());
  }

  /** In process there is one app: no other app can serve the subject. */
  async announce(): Promise<void> {}

  async drain(): Promise<void> {
    this.draining = true;
    this.listeners.clear();
    this.groups.clear();
    await Promise.allSettled(this.inFlight);
  }

  async close(): Promise<void> {
    await this.drain();
  }

  status(): TransportStatus {
    return { kind: 'local', connected: !this.draining, closed: this.draining };
  }

  async onBroadcast(
    topic: string,
    listener: (body: string) => void,
  ): Promise<() => void> {
    this.broadcasts.on(topic, listener);
    return () => this.broadcasts.off(topic, listener);
  }

  broadcast(topic: string, body?: string): void {
    this.broadcasts.emit(topic, body ?? '');
  }

  private pick(
    subject: string,
    messageType: string,
    messageId: string,
  ): RequestListener {
    if (this.draining)
      throw new TransportError(
        `The local transport is shutting down: message ${messageId} was not sent.`,
        { messageId },
      );
    const listeners = this.listeners.get(subject);
    if (!listeners || listeners.length === 0)
      throw new NoHandlerError(messageType, messageId);
    const turn = this.turns.get(subject) ?? 0;
    this.turns.set(subject, turn + 1);
    return listeners[turn % listeners.length];
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }
}

function copy(message: WireMessage): WireMessage {
  return { headers: { ...message.headers }, body: message.body };
}
