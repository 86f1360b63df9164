/** A message as the wire carries it: string headers and a JSON body. */
export interface WireMessage {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Handles one request; resolves to the reply, or `undefined` when none was asked for. */
export type RequestListener = (
  request: WireMessage,
  wantsReply: boolean,
) => Promise<WireMessage>;

/** Takes one published message; what it throws or rejects with is its own to log. */
export type MessageListener = (message: WireMessage) => void | Promise<void>;

/** What the transport can say about its connection, for health checks. */
export interface TransportStatus {
  readonly kind: 'local' | 'nats';
  readonly connected: boolean;
  /** Closed for good: it will not reconnect (after `close()`, or a connection the client gave up on). */
  readonly closed?: boolean;
  readonly server?: string;
  readonly reconnects?: number;
  /** The last error the connection reported (an authorization error, say), while it lasts. */
  readonly lastError?: string;
  /** Since when the connection is down, while it is. */
  readonly disconnectedSince?: Date;
}

/**
 * Backpressure per served subject: how many requests this process runs at
 * once, and how many more wait in it. Beyond that, a request is refused at
 * once, not started, and its caller tries again (NATS then picks again).
 */
export interface ServeLimits {
  readonly maxConcurrent: number;
  readonly maxQueued: number;
}

/** How busy one served subject is in this process. */
export interface ServedLoad {
  readonly subject: string;
  /** Handlers running now (at most `maxConcurrent`). */
  readonly running: number;
  /** Requests waiting for a free handler now (at most `maxQueued`). */
  readonly queued: number;
  /** Since start: requests refused as busy (their callers tried again). */
  readonly refused: number;
  /** Since start: requests not started because their caller's deadline passed while they waited. */
  readonly expired: number;
}

/**
 * The port between the buses and the network. Requests go to a subject and one
 * of the subscribers in a queue group answers; `serve` subscribes a listener.
 * Adapters: `nats/` for real deployments, `local/` in process.
 */
export abstract class Transport {
  /**
   * Sends a request and waits for the reply. Each try carries the time the
   * caller still waits; a try refused as busy is sent again after a short
   * pause. Rejects with `NoHandlerError` when nobody serves the subject,
   * `TransportError` when it could not be sent, `TimeoutError`,
   * `HandlersBusyError` when every try was refused, `InDoubtError` when the
   * connection dropped meanwhile, or `RequestTooLargeError` (not sent) when it
   * is over `maxPayloadBytes()`; each names the message id of the request's
   * `Chronicle-Message-Id` header.
   */
  abstract request(
    subject: string,
    message: WireMessage,
    options: { timeoutMs: number; messageType: string },
  ): Promise<WireMessage>;

  /** Sends without waiting for any reply (`RequestTooLargeError` when over `maxPayloadBytes()`). */
  abstract publish(subject: string, message: WireMessage): Promise<void>;

  /**
   * Serves a subject in a queue group: each request goes to one member of the
   * group, and runs within `limits` (default `DEFAULT_SERVE_LIMITS`).
   */
  abstract serve(
    subject: string,
    queue: string,
    listener: RequestListener,
    limits?: ServeLimits,
  ): Promise<void>;

  /**
   * Listens to messages published on `subject` (NATS wildcards `*` and `>`
   * allowed) in queue group `queue`: each message reaches one member of each
   * group. No reply, no backpressure, at most once (NATS core). Stops with
   * `drain()`, after the listeners running then have finished.
   */
  abstract subscribe(
    subject: string,
    queue: string,
    listener: MessageListener,
  ): Promise<void>;

  /** How busy each subject this process serves is. */
  abstract load(): readonly ServedLoad[];

  /**
   * Says that `app` serves `subject` to the other apps on the transport, and
   * calls `onOther` with the name of each other app that serves it too, those
   * already there and those starting later (several calls for one app are possible).
   */
  abstract announce(
    subject: string,
    app: string,
    onOther: (app: string) => void,
  ): Promise<void>;

  /** Stops taking requests and waits for the ones in flight to be answered. */
  abstract drain(): Promise<void>;

  abstract close(): Promise<void>;

  abstract status(): TransportStatus;

  /**
   * The largest request or reply the transport carries, headers and body, in
   * bytes (as `wireSizeOf` counts): over NATS the server's `max_payload`;
   * `undefined` when there is no limit. A larger request is refused with
   * `RequestTooLargeError` before it is sent; a larger reply is answered
   * with a `REPLY_TOO_LARGE` error (see the router).
   */
  maxPayloadBytes(): number | undefined {
    return undefined;
  }

  /**
   * A wake-up channel shared by every app on the transport (the store's
   * AppendSignal rides on it). `listener` gets the message's body ('' when it
   * has none). Returns a function that stops listening.
   */
  abstract onBroadcast(
    topic: string,
    listener: (body: string) => void,
  ): Promise<() => void>;

  /** Sends `body` (none when omitted) to every listener of `topic`, not waiting. */
  abstract broadcast(topic: string, body?: string): void;
}
