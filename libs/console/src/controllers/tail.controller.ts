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
  checkTypeName,
  EventStore,
  followLog,
  type Checkpoint,
  type StoredEvent,
} from '@chronicle/core';
import { ConsoleAccessGuard } from '../access/console-access.guard.js';
import type { ConsoleRequest } from '../console.options.js';
import { tailPage } from '../pages/tail.page.js';
import { ConsoleHeadersInterceptor } from './console-headers.interceptor.js';
import { PageContexts } from './page-context.js';

/** How often an idle tail looks at the log without a wake-up. */
const POLL_MS = 1000;
/** A comment line this often keeps proxies from closing an idle tail. */
const HEARTBEAT_MS = 15_000;
/** How much of a payload a row shows. */
export const PREVIEW_CHARS = 200;

interface FeedRequest extends ConsoleRequest {
  on(event: 'close', listener: () => void): unknown;
}

interface FeedResponse {
  readonly writableEnded: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): unknown;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

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
  private readonly open = new Map<FeedResponse, AbortController>();

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
      typesOf(text);
    } catch (error) {
      if (error instanceof ChronicleError)
        return tailPage(ctx, text, '', error.message);
      throw error;
    }
    // The feed starts after what is readable now: nothing committed after
    // the page was rendered is missed while the script connects.
    return tailPage(ctx, text, placeOf(await this.store.headCheckpoint()));
  }

  @Get('feed')
  async feed(
    @Req() request: FeedRequest,
    @Res() response: FeedResponse,
    @Query('types') types?: string,
    @Query('after') after?: string,
  ): Promise<void> {
    const lastEventId = request.headers['last-event-id'];
    let filter: string[] | undefined;
    let checkpoint: Checkpoint | undefined;
    try {
      filter = typesOf(typeof types === 'string' ? types : '');
      const from = typeof lastEventId === 'string' ? lastEventId : after;
      // No place: followLog starts now, past what had committed.
      checkpoint = from ? checkpointOf(from) : undefined;
    } catch (error) {
      if (error instanceof ChronicleError)
        throw new BadRequestException(error.message);
      throw error;
    }
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store, no-transform',
      'X-Accel-Buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    const stop = new AbortController();
    this.open.set(response, stop);
    request.on('close', () => stop.abort());
    let lastWrite = Date.now();
    const heartbeat = setInterval(() => {
      if (Date.now() - lastWrite < HEARTBEAT_MS || response.writableEnded)
        return;
      lastWrite = Date.now();
      response.write(': keep-alive\n\n');
    }, HEARTBEAT_MS / 3);
    heartbeat.unref();
    try {
      for await (const { event, checkpoint: at } of followLog(this.store, {
        after: checkpoint,
        types: filter,
        pollMs: POLL_MS,
        signal: stop.signal,
      })) {
        lastWrite = Date.now();
        if (!response.write(frame(event, at))) await drained(response);
      }
    } finally {
      clearInterval(heartbeat);
      this.open.delete(response);
      if (!response.writableEnded) response.end();
    }
  }

  /** Ends every open tail, so the app's server can close. */
  onModuleDestroy(): void {
    for (const [response, stop] of this.open) {
      stop.abort();
      response.end();
    }
  }
}

/** `a, b` as type names; undefined for every type. */
function typesOf(text: string): string[] | undefined {
  if (text.trim() === '') return undefined;
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => checkTypeName(t, 'event type'));
}

const placeOf = (c: Checkpoint) => `${c.transactionId}-${c.position}`;

function checkpointOf(text: string): Checkpoint {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(text);
  if (!match) {
    throw new TailInputError(
      `"${text.slice(0, 60)}" is not a place in the log: give an event's id from the tail (<transaction id>-<position>), or nothing to start from now.`,
    );
  }
  return { transactionId: BigInt(match[1]), position: BigInt(match[2]) };
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
  return `id: ${placeOf(at)}\ndata: ${data}\n\n`;
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
