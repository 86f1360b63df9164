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
  LOG_START,
  PostgresEventStore,
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
 * `Last-Event-ID` and resumes right after it.
 */
@Controller()
@UseGuards(GatewayGuard)
export class EventFeedController implements OnModuleDestroy {
  private readonly open = new Set<GatewayResponse>();
  private closing = false;

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
    let checkpoint = await this.startOf(from);
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    response.write('retry: 1000\n\n');
    written.set(response, Date.now());
    this.open.add(response);
    let closed = false;
    let wake: (() => void) | undefined;
    const stopWaiting = () => wake?.();
    request.on('close', () => {
      closed = true;
      stopWaiting();
    });
    const signal =
      this.store instanceof PostgresEventStore ? this.store.signal : undefined;
    const unsubscribe = signal?.subscribe((appended) => {
      if (!appended || !filter || appended.some((t) => filter.includes(t)))
        stopWaiting();
    });
    try {
      while (!closed && !this.closing) {
        const batch = await this.store.readAll({
          after: checkpoint,
          limit: BATCH,
          types: filter,
        });
        for (const event of batch.events) {
          if (closed) break;
          written.set(response, Date.now());
          if (!response.write(frame(event))) await drained(response);
        }
        checkpoint = batch.checkpoint;
        if (!batch.caughtUp) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.feedPollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (Date.now() - lastWrite(response) > HEARTBEAT_MS) {
          written.set(response, Date.now());
          response.write(': keep-alive\n\n');
        }
      }
    } finally {
      unsubscribe?.();
      this.open.delete(response);
      if (!response.writableEnded) response.end();
    }
  }

  /** Ends every open feed, so the app's server can close. */
  onModuleDestroy(): void {
    this.closing = true;
    for (const response of this.open) response.end();
  }

  private async startOf(from: string | undefined): Promise<Checkpoint> {
    if (from === undefined || from === '' || from === 'now')
      return this.store.headCheckpoint();
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

const written = new WeakMap<GatewayResponse, number>();

function lastWrite(response: GatewayResponse): number {
  return written.get(response) ?? 0;
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
