import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { timeoutOf } from './deadline.js';
import {
  DeadlineExceededError,
  HandlersBusyError,
} from './transport.errors.js';
import type {
  RequestListener,
  ServedLoad,
  ServeLimits,
  WireMessage,
} from './transport.js';
import { encodeError, HEADER, messageIdOf } from './wire-format.js';

/** Per message type: 32 handlers at once, 256 more waiting. */
export const DEFAULT_SERVE_LIMITS: ServeLimits = {
  maxConcurrent: 32,
  maxQueued: 256,
};

/** At most one warning per this many ms about messages dropped without a reply subject. */
const DROP_WARNING_EVERY_MS = 10_000;

interface Waiting {
  readonly request: WireMessage;
  readonly wantsReply: boolean;
  readonly resolve: (reply: Promise<WireMessage> | WireMessage) => void;
  timer?: NodeJS.Timeout;
}

/**
 * Backpressure for one served subject, the same in every transport: at most
 * `maxConcurrent` requests run at once, at most `maxQueued` more wait, first
 * come first served, and the rest are refused at once with a busy reply, not
 * started, so the caller sends them again and NATS picks a member of the
 * queue group again (most likely another instance). A request whose caller's
 * deadline passes while it waits leaves the queue unstarted, with a
 * `DEADLINE_EXCEEDED` refusal (a caller still waiting reads it as its
 * `TimeoutError`): a command that did
 * not start has no effect, and the caller's `TimeoutError` names its id to
 * send it again. A handler already running is never interrupted.
 */
export class ServeQueue {
  private running = 0;
  /** Insertion-ordered: the first is the oldest; an expired one leaves from anywhere. */
  private readonly waiting = new Set<Waiting>();
  private refused = 0;
  private expired = 0;
  private dropped = 0;
  private lastDropWarning = -Infinity;

  constructor(
    readonly subject: string,
    private readonly listener: RequestListener,
    private readonly limits: ServeLimits = DEFAULT_SERVE_LIMITS,
    private readonly logger: Pick<Logger, 'debug' | 'warn'> = new Logger(
      'Chronicle',
    ),
  ) {}

  /** Takes one request off the wire; resolves to its reply (a refusal when it was not started). */
  offer(request: WireMessage, wantsReply: boolean): Promise<WireMessage> {
    const timeoutMs = timeoutOf(request);
    if (timeoutMs === 0) return Promise.resolve(this.expire(request));
    if (this.running < this.limits.maxConcurrent)
      return this.run(request, wantsReply);
    if (this.waiting.size >= this.limits.maxQueued)
      return Promise.resolve(this.refuse(request, wantsReply));
    return new Promise((resolve) => {
      const entry: Waiting = { request, wantsReply, resolve };
      if (timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.waiting.delete(entry);
          resolve(this.expire(request));
        }, timeoutMs);
      }
      this.waiting.add(entry);
    });
  }

  load(): ServedLoad {
    return {
      subject: this.subject,
      running: this.running,
      queued: this.waiting.size,
      refused: this.refused,
      expired: this.expired,
    };
  }

  private async run(
    request: WireMessage,
    wantsReply: boolean,
  ): Promise<WireMessage> {
    this.running++;
    try {
      return await this.listener(request, wantsReply);
    } finally {
      this.running--;
      this.startNext();
    }
  }

  private startNext(): void {
    const next = this.waiting.values().next();
    if (next.done) return;
    const entry = next.value;
    this.waiting.delete(entry);
    clearTimeout(entry.timer);
    entry.resolve(this.run(entry.request, entry.wantsReply));
  }

  /** Not started: the caller gave up while it waited. */
  private expire(request: WireMessage): WireMessage {
    this.expired++;
    const error = new DeadlineExceededError(
      typeOf(request, this.subject),
      messageIdOf(request),
    );
    this.logger.debug(error.message);
    return refusal('deadline', error);
  }

  /** Not started: this instance is full; the caller tries again, NATS picks again. */
  private refuse(request: WireMessage, wantsReply: boolean): WireMessage {
    const error = new HandlersBusyError(
      typeOf(request, this.subject),
      messageIdOf(request),
    );
    if (wantsReply) this.refused++;
    else this.warnDropped();
    return refusal('busy', error);
  }

  /**
   * A message sent without a reply subject (by an app of an older version, or
   * by hand) cannot be told to try elsewhere: it is dropped, and said so, at
   * a bounded rate.
   */
  private warnDropped(): void {
    this.dropped++;
    const now = performance.now();
    if (now - this.lastDropWarning < DROP_WARNING_EVERY_MS) return;
    this.lastDropWarning = now;
    this.logger.warn(
      `Dropped ${this.dropped} message(s) on ${this.subject} sent without a reply subject while every handler ` +
        `was busy (${this.limits.maxConcurrent} running, ${this.limits.maxQueued} waiting): nobody could retry them. ` +
        'Send with gateway.send or gateway.sendAndForget, which never drop a message.',
    );
    this.dropped = 0;
  }
}

function typeOf(request: WireMessage, subject: string): string {
  return request.headers[HEADER.type] ?? subject;
}

/** An error reply (as older callers read it) marked as not started. */
function refusal(
  kind: 'busy' | 'deadline',
  error: HandlersBusyError | DeadlineExceededError,
): WireMessage {
  const reply = encodeError(error, {
    messageType: error.messageType,
    messageId: error.messageId,
    debug: false,
  });
  return {
    headers: { ...reply.headers, [HEADER.refused]: kind },
    body: reply.body,
  };
}
