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
  EventStore,
  feedTypesOf,
  LOG_START,
  LogFeeds,
  parseLogPlace,
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

/**
 * `GET /events?after=...&types=a,b`: committed events as server-sent events,
 * in log order, from the safe horizon only (what `readAll` returns, so a
 * late commit is never skipped), then live as they commit. Each event's
 * `id:` is its place in the log; a client that reconnects sends it back as
 * `Last-Event-ID` and resumes right after it. Core's `LogFeeds` serves it
 * (over `followLog`), as it does the console's live tail.
 */
@Controller()
@UseGuards(GatewayGuard)
export class EventFeedController implements OnModuleDestroy {
  private readonly feeds = new LogFeeds();

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
    const filter = feedTypesOf(types);
    await this.feeds.serve(request, response, {
      store: this.store,
      after: this.startOf(from),
      types: filter,
      pollMs: this.options.feedPollMs,
      batchSize: BATCH,
      retryMs: 1000,
      headers: {
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      },
      frame: ({ event }) => frame(event),
    });
  }

  /** Ends every open feed, so the app's server can close. */
  onModuleDestroy(): void {
    this.feeds.closeAll();
  }

  /** Where the feed starts; undefined for now (followLog then passes over what had committed). */
  private startOf(from: string | undefined): Checkpoint | undefined {
    if (from === undefined || from === '' || from === 'now') return undefined;
    if (from === 'beginning' || from === '0') return LOG_START;
    const place = parseLogPlace(from);
    if (!place) {
      throw new GatewayError(
        'MALFORMED_MESSAGE',
        `"${from.slice(0, 60)}" is not a place in the log: give an event's id from the feed (Last-Event-ID), "beginning" or "now".`,
      );
    }
    return place;
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
