import { checkTypeName } from '../messages/index.js';
import type { Checkpoint, EventStore } from './event-store.js';
import { followLog, type FollowedEvent } from './follow-log.js';

// The HTTP side of following the log, shared by the gateway's /events and
// the console's live tail: both answer with server-sent events from
// `followLog`, differ only in their frames, and must end with the app.

/** A comment line this often keeps proxies from closing an idle feed. */
const HEARTBEAT_MS = 15_000;

/** What a feed needs of Node's (or Express's) response. */
export interface FeedResponse {
  readonly writableEnded: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): unknown;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** What a feed needs of the request: to hear the client go. */
export interface FeedRequest {
  on(event: 'close', listener: () => void): unknown;
}

export interface LogFeedOptions {
  readonly store: EventStore;
  /** After this place; undefined for now (only what commits from here on). */
  readonly after?: Checkpoint;
  readonly types?: readonly string[];
  readonly pollMs?: number;
  readonly batchSize?: number;
  /** The client's reconnection delay (`retry:`). */
  readonly retryMs: number;
  /** Headers besides the content type (caching, proxies). */
  readonly headers?: Readonly<Record<string, string>>;
  /** One event as an SSE frame, ending in a blank line. */
  frame(followed: FollowedEvent): string;
}

/**
 * The open server-sent event feeds of one controller: each follows the log
 * until its client goes or `closeAll` (the app's shutdown) ends it. Writes
 * wait for the response to drain: a slow client slows its own feed only.
 */
export class LogFeeds {
  private readonly open = new Map<FeedResponse, AbortController>();

  async serve(
    request: FeedRequest,
    response: FeedResponse,
    options: LogFeedOptions,
  ): Promise<void> {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      ...options.headers,
    });
    response.write(`retry: ${options.retryMs}\n\n`);
    const stop = new AbortController();
    this.open.set(response, stop);
    request.on('close', () => stop.abort());
    let lastWrite = Date.now();
    // An idle feed still says something now and then, so proxies keep it open.
    const heartbeat = setInterval(() => {
      if (Date.now() - lastWrite < HEARTBEAT_MS || response.writableEnded)
        return;
      lastWrite = Date.now();
      response.write(': keep-alive\n\n');
    }, HEARTBEAT_MS / 3);
    heartbeat.unref();
    try {
      for await (const followed of followLog(options.store, {
        after: options.after,
        types: options.types,
        pollMs: options.pollMs,
        batchSize: options.batchSize,
        signal: stop.signal,
      })) {
        lastWrite = Date.now();
        if (!response.write(options.frame(followed))) await drained(response);
      }
    } finally {
      clearInterval(heartbeat);
      this.open.delete(response);
      if (!response.writableEnded) response.end();
    }
  }

  /** Ends every open feed, so the app's server can close. */
  closeAll(): void {
    for (const [response, stop] of this.open) {
      stop.abort();
      response.end();
    }
  }
}

/** A place in the log as a feed writes it in `id:` (and reads it back from Last-Event-ID). */
export const logPlaceOf = (c: Checkpoint): string =>
  `${c.transactionId}-${c.position}`;

/** `<transaction id>-<position>` as a checkpoint; undefined when it is not one. */
export function parseLogPlace(text: string): Checkpoint | undefined {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(text);
  return match
    ? { transactionId: BigInt(match[1]), position: BigInt(match[2]) }
    : undefined;
}

/** `a, b` as checked event type names; undefined (every type) for nothing. */
export function feedTypesOf(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => checkTypeName(t, 'event type'));
}

function drained(response: FeedResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
