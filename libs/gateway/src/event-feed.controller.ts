import {
  Controller,
  Get,
  Inject,
  Query,
  Req,
  Res,
  UseGuards,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  checkTypeName,
  EventStore,
  followLog,
  LOG_START,
  type Checkpoint,
  type StoredEvent,
} from '@chronicle/core';
import { GatewayGuard } from './gateway.guard.js';
import {
  GATEWAY_OPTIONS,
  type ResolvedGatewayOptions,
} from './gateway.options.js';
import type { GatewayRequest, GatewayResponse } from './http-types.js';
import { GatewayError } from './problem-details.js';

/** Events sent per read of the log. */
const BATCH = 500;
/** A comment line this often keeps proxies from closing an idle feed. */
const HEARTBEAT_MS = 15_000;

/**
 * `GET /events?after=...&types=a,b`: committed events as server-sent events,
 * in log order, from the safe horizon only (what `readAll` returns, so a
 * late commit is never skipped), then live as they commit. Each event's
 * `id:` is its place in the log; a client that reconnects sends it back as
 * `Last-Event-ID` and resumes right after it. The loop is core's
 * `followLog`, which the console's live tail follows too.
 */
@Controller()
@UseGuards(GatewayGuard)
export class EventFeedController implements OnModuleDestroy {
  private readonly open = new Map<GatewayResponse, AbortController>();

  constructor(
    private readonly store: EventStore,
    @Inject(GATEWAY_OPTIONS) private readonly options: ResolvedGatewayOptions,
  ) {}

  @Get('events')
  async events(
    @Req() request: GatewayRequest,
    @Res() response: GatewayResponse,
    @Query('after') after?: string,
    @Query('types') types?: string,
  ): Promise<void> {
    const lastEventId = request.headers['last-event-id'];
    const from = typeof lastEventId === 'string' ? lastEventId : after;
    const filter = typesOf(types);
    const checkpoint = this.startOf(from);
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    response.write('retry: 1000\n\n');
    let lastWrite = Date.now();
    const stop = new AbortController();
    this.open.set(response, stop);
    request.on('close', () => stop.abort());
    // An idle feed still says something now and then, so proxies keep it open.
    const heartbeat = setInterval(() => {
      if (Date.now() - lastWrite < HEARTBEAT_MS || response.writableEnded)
        return;
      lastWrite = Date.now();
      response.write(': keep-alive\n\n');
    }, HEARTBEAT_MS / 3);
    heartbeat.unref();
    try {
      for await (const { event } of followLog(this.store, {
        after: checkpoint,
        types: filter,
        pollMs: this.options.feedPollMs,
        batchSize: BATCH,
        signal: stop.signal,
      })) {
        lastWrite = Date.now();
        if (!response.write(frame(event))) await drained(response);
      }
    } finally {
      clearInterval(heartbeat);
      this.open.delete(response);
      if (!response.writableEnded) response.end();
    }
  }

  /** Ends every open feed, so the app's server can close. */
  onModuleDestroy(): void {
    for (const [response, stop] of this.open) {
      stop.abort();
      response.end();
    }
  }

  /** Where the feed starts; undefined for now (followLog then passes over what had committed). */
  private startOf(from: string | undefined): Checkpoint | undefined {
    if (from === undefined || from === '' || from === 'now') return undefined;
    if (from === 'beginning' || from === '0') return LOG_START;
    const match = /^(\d{1,20})-(\d{1,20})$/.exec(from);
    if (!match) {
      throw new GatewayError(
        'MALFORMED_MESSAGE',
        `"${from.slice(0, 60)}" is not a place in the log: give an event's id from the feed (Last-Event-ID), "beginning" or "now".`,
      );
    }
    return { transactionId: BigInt(match[1]), position: BigInt(match[2]) };
  }
}

/** One event as an SSE frame: its place in the log as the id, its type as the event name. */
function frame(event: StoredEvent): string {
  const data = JSON.stringify({
    id: event.id,
    type: event.type,
    revision: event.revision,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    position: event.position.toString(),
    timestamp: event.timestamp.toISOString(),
    metadata: event.metadata,
    payload: event.payload,
  });
  return `id: ${event.transactionId}-${event.position}\nevent: ${event.type}\ndata: ${data}\n\n`;
}

function drained(response: GatewayResponse): Promise<void> {
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

function typesOf(types: string | undefined): string[] | undefined {
  if (types === undefined || types.trim() === '') return undefined;
  return types.split(',').map((t) => checkTypeName(t.trim(), 'event type'));
}
