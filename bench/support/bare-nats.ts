import { randomUUID } from 'node:crypto';
import { HEADER } from '@chronicle/core';
import {
  connect,
  headers,
  type Msg,
  type NatsConnection,
} from '@nats-io/transport-node';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A request as the bare responder reads it off the wire. */
export interface BareRequest {
  readonly id: string;
  readonly type: string;
  readonly body: unknown;
}

/** Builds a reply's result from a request; may be async (database work). */
export type BareHandler = (request: BareRequest) => unknown;

/**
 * The transport baseline: plain `@nats-io/transport-node` request-reply with
 * no framework. Its own two connections (requester and responder, as two apps
 * would have), a plain subscription in a queue group answering with
 * `msg.respond`. It does the JSON and header work a hand-written service would
 * do for the same call, and nothing less: the requester stringifies the body
 * and sets an id and a type header; the responder reads both headers, parses
 * the body, stringifies `{ result }` with a status header; the requester
 * checks the status and parses the reply.
 */
export class BareNats {
  private constructor(
    private readonly requester: NatsConnection,
    private readonly responder: NatsConnection,
    private readonly timeoutMs: number,
  ) {}

  static async connect(servers: string, timeoutMs = 10_000): Promise<BareNats> {
    // noAsyncTraces as Chronicle's connections have it, so both pay the same client costs.
    const [requester, responder] = await Promise.all([
      connect({ servers, name: 'bench-bare-requester', noAsyncTraces: true }),
      connect({ servers, name: 'bench-bare-responder', noAsyncTraces: true }),
    ]);
    return new BareNats(requester, responder, timeoutMs);
  }

  /** Answers `subject` in queue group `queue`; each message is handled as it comes, concurrently. */
  async serve(
    subject: string,
    queue: string,
    handle: BareHandler,
  ): Promise<void> {
    this.responder.subscribe(subject, {
      queue,
      callback: (error, msg) => {
        if (error) return;
        try {
          const request: BareRequest = {
            id: msg.headers?.get(HEADER.id) ?? '',
            type: msg.headers?.get(HEADER.type) ?? '',
            body: JSON.parse(decoder.decode(msg.data)),
          };
          const result = handle(request);
          if (result instanceof Promise) {
            result.then(
              (value: unknown) => respond(msg, 'ok', { result: value }),
              (e: unknown) => respond(msg, 'error', { message: String(e) }),
            );
          } else respond(msg, 'ok', { result });
        } catch (e) {
          respond(msg, 'error', { message: String(e) });
        }
      },
    });
    await this.responder.flush();
  }

  /** Sends one request and returns the result its reply carries. */
  async request(
    subject: string,
    type: string,
    body: unknown,
  ): Promise<unknown> {
    const h = headers();
    h.set(HEADER.id, randomUUID());
    h.set(HEADER.type, type);
    const reply = await this.requester.request(
      subject,
      encoder.encode(JSON.stringify(body)),
      { timeout: this.timeoutMs, headers: h },
    );
    const parsed = JSON.parse(decoder.decode(reply.data)) as {
      result?: unknown;
      message?: string;
    };
    if (reply.headers?.get(HEADER.status) !== 'ok') {
      throw new Error(`bare NATS handler failed: ${parsed.message}`);
    }
    return parsed.result;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.requester.drain(), this.responder.drain()]);
  }
}

function respond(msg: Msg, status: 'ok' | 'error', body: object): void {
  const h = headers();
  h.set(HEADER.status, status);
  msg.respond(encoder.encode(JSON.stringify(body)), { headers: h });
}
