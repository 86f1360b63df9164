import { performance } from 'node:perf_hooks';
import {
  createInbox,
  type Msg,
  type NatsConnection,
} from '@nats-io/transport-node';

/** Why a request got no reply. */
export type NoReply =
  /** Its deadline passed. */
  | 'timeout'
  /** No subscriber of the subject: NATS said so (status 503). */
  | 'no-responders';

/** A request waiting for its reply, with what the sender said about it (`about`). */
interface Pending<About> {
  readonly about: About;
  /** Where the request went: a refusal by NATS names it. */
  readonly subject: string;
  readonly deadline: number;
  readonly resolve: (msg: Msg) => void;
  readonly reject: (reason: NoReply | Error) => void;
}

/**
 * Request-reply over one wildcard inbox per connection, as the NATS client's
 * own request does, without what that costs per request: a timer, two
 * promises raced, and an error object made at each reply. Deadlines share
 * one timer, armed for the earliest; a reply after its request's deadline
 * (or after `failAll`) finds no one waiting and is dropped.
 */
export class ReplyInbox<About> {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending<About>>();
  private next = 0;
  private timer?: NodeJS.Timeout;
  /** The deadline the timer is armed for. */
  private armedFor = Infinity;

  constructor(private readonly nc: NatsConnection) {
    this.prefix = `${createInbox()}.`;
    // Closed with the connection (which fails what still waits: `failAll`).
    nc.subscribe(`${this.prefix}*`, {
      callback: (error, msg) => {
        if (!error) this.receive(msg);
      },
    });
  }

  /**
   * Publishes `data` to `subject` with a reply subject of this inbox and
   * resolves to the reply; rejects with a `NoReply` reason, or with what
   * `publish` threw (then nothing was sent).
   */
  request(
    subject: string,
    data: Uint8Array,
    options: { timeoutMs: number; headers?: Msg['headers'] },
    about: About,
  ): Promise<Msg> {
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const deadline = performance.now() + options.timeoutMs;
      try {
        this.nc.publish(subject, data, {
          reply: this.prefix + token,
          headers: options.headers,
        });
      } catch (error) {
        reject(error as Error);
        return;
      }
      this.pending.set(token, { about, subject, deadline, resolve, reject });
      if (deadline < this.armedFor) this.arm(deadline);
    });
  }

  /** Fails every request waiting for a reply with the error `failure` makes of it (the connection they went out on is gone). */
  failAll(failure: (about: About) => Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.disarm();
    for (const pending of waiting) pending.reject(failure(pending.about));
  }

  /**
   * Fails the requests waiting on `subject` with the error `failure` makes:
   * NATS refused to deliver to it (a permissions violation names the subject,
   * not the request), so no reply will come.
   */
  failSubject(subject: string, failure: (about: About) => Error): void {
    for (const [token, pending] of this.pending) {
      if (pending.subject !== subject) continue;
      this.pending.delete(token);
      pending.reject(failure(pending.about));
    }
  }

  private receive(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const pending = this.pending.get(token);
    if (!pending) return;
    this.pending.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      pending.reject('no-responders');
    } else pending.resolve(msg);
  }

  private arm(deadline: number): void {
    clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(
      () => this.expire(),
      Math.max(1, Math.ceil(deadline - performance.now())),
    );
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  /** Fails the requests whose deadline passed, and arms the timer for the next. */
  private expire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    let earliest = Infinity;
    for (const [token, pending] of this.pending) {
      if (pending.deadline <= now) {
        this.pending.delete(token);
        pending.reject('timeout');
      } else if (pending.deadline < earliest) earliest = pending.deadline;
    }
    if (earliest !== Infinity) this.arm(earliest);
  }
}
