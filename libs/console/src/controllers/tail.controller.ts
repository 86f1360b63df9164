import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Query,
  Req,
  Res,
  UseGuards,
  UseInterceptors,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  ChronicleError,
  EventStore,
  feedTypesOf,
  LogFeeds,
  logPlaceOf,
  parseLogPlace,
  type Checkpoint,
  type FeedRequest,
  type FeedResponse,
  type StoredEvent,
} from '@chronicle/core';
import { ConsoleAccessGuard } from '../access/console-access.guard.js';
import type { ConsoleRequest } from '../console.options.js';
import { tailPage } from '../pages/tail.page.js';
import { ConsoleHeadersInterceptor } from './console-headers.interceptor.js';
import { PageContexts } from './page-context.js';

/** How often an idle tail looks at the log without a wake-up. */
const POLL_MS = 1000;
/** How much of a payload a row shows. */
export const PREVIEW_CHARS = 200;

type TailRequest = ConsoleRequest & FeedRequest;

/** A typed input the tail cannot use; shown on the page, 400 from the feed. */
class TailInputError extends ChronicleError {
  readonly code = 'CONSOLE_TAIL_INPUT';
}

/**
 * The live tail: a page, and its feed of server-sent events (core's
 * `followLog`, as the gateway's feed) behind the console's guard. Each frame
 * carries what a row shows, the payload cut to a preview.
 */
@Controller('tail')
@UseGuards(ConsoleAccessGuard)
@UseInterceptors(ConsoleHeadersInterceptor)
export class TailController implements OnModuleDestroy {
  private readonly feeds = new LogFeeds();

  constructor(
    private readonly contexts: PageContexts,
    private readonly store: EventStore,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  async page(
    @Req() request: ConsoleRequest,
    @Query('types') types?: string,
  ): Promise<string> {
    const ctx = this.contexts.of(request);
    const text = typeof types === 'string' ? types.trim() : '';
    try {
      feedTypesOf(text);
    } catch (error) {
      if (error instanceof ChronicleError)
        return tailPage(ctx, text, '', error.message);
      throw error;
    }
    // The feed starts after what is readable now: nothing committed after
    // the page was rendered is missed while the script connects.
    return tailPage(ctx, text, logPlaceOf(await this.store.headCheckpoint()));
  }

  @Get('feed')
  async feed(
    @Req() request: TailRequest,
    @Res() response: FeedResponse,
    @Query('types') types?: string,
    @Query('after') after?: string,
  ): Promise<void> {
    const lastEventId = request.headers['last-event-id'];
    let filter: string[] | undefined;
    let checkpoint: Checkpoint | undefined;
    try {
      filter = feedTypesOf(typeof types === 'string' ? types : '');
      const from = typeof lastEventId === 'string' ? lastEventId : after;
      // No place: followLog starts now, past what had committed.
      checkpoint = from ? checkpointOf(from) : undefined;
    } catch (error) {
      if (error instanceof ChronicleError)
        throw new BadRequestException(error.message);
      throw error;
    }
    await this.feeds.serve(request, response, {
      store: this.store,
      after: checkpoint,
      types: filter,
      pollMs: POLL_MS,
      retryMs: 2000,
      headers: {
        'Cache-Control': 'no-store, no-transform',
        'X-Accel-Buffering': 'no',
      },
      frame: ({ event, checkpoint: at }) => frame(event, at),
    });
  }

  /** Ends every open tail, so the app's server can close. */
  onModuleDestroy(): void {
    this.feeds.closeAll();
  }
}

function checkpointOf(text: string): Checkpoint {
  const place = parseLogPlace(text);
  if (!place) {
    throw new TailInputError(
      `"${text.slice(0, 60)}" is not a place in the log: give an event's id from the tail (<transaction id>-<position>), or nothing to start from now.`,
    );
  }
  return place;
}

/** A payload as one line of JSON, cut to `PREVIEW_CHARS`. */
export function previewOf(payload: unknown): string {
  const text = JSON.stringify(payload) ?? '';
  return text.length > PREVIEW_CHARS
    ? `${text.slice(0, PREVIEW_CHARS - 1)}…`
    : text;
}

/** One event as a frame: data the script renders as text, never as markup. */
function frame(event: StoredEvent, at: Checkpoint): string {
  const data = JSON.stringify({
    id: event.id,
    type: event.type,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    timestamp: event.timestamp.toISOString(),
    preview: previewOf(event.payload),
  });
  return `id: ${logPlaceOf(at)}\ndata: ${data}\n\n`;
}
