import {
  Controller,
  Get,
  Header,
  Inject,
  Param,
  Query,
  Redirect,
  Req,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  aggregateStateOf,
  ChronicleError,
  DeadLetters,
  MessageLog,
  type DeadLetterList,
} from '@chronicle/core';
import { ConsoleAccessGuard } from '../access/console-access.guard.js';
import {
  CONSOLE_OPTIONS,
  type ConsoleRequest,
  type ResolvedConsoleOptions,
} from '../console.options.js';
import { aggregatePage, type AggregateView } from '../pages/aggregate.page.js';
import { consumersPage } from '../pages/consumers.page.js';
import { messagePage } from '../pages/message.page.js';
import { messagesPage } from '../pages/messages.page.js';
import { schedulesPage } from '../pages/schedules.page.js';
import {
  filterOf,
  SearchInputError,
  type SearchQuery,
} from '../pages/search-form.js';
import { diffStates } from '../pages/state-diff.js';
import { AggregateTypes } from '../reading/aggregate-types.js';
import { ConsoleStore } from '../reading/console-store.js';
import { LagHistory } from '../reading/lag-history.js';
import { ConsoleHeadersInterceptor } from './console-headers.interceptor.js';
import { PageContexts } from './page-context.js';

const HTML = 'text/html; charset=utf-8';

/** What a reader may be shown of a failed read: our own errors' messages, nothing else. */
function shown(error: unknown): string {
  if (error instanceof ChronicleError || error instanceof SearchInputError) {
    return error.message;
  }
  throw error;
}

/** The console's pages; each reads what it shows and renders it on the server. */
@Controller()
@UseGuards(ConsoleAccessGuard)
@UseInterceptors(ConsoleHeadersInterceptor)
export class PagesController {
  constructor(
    private readonly contexts: PageContexts,
    private readonly log: MessageLog,
    private readonly store: ConsoleStore,
    private readonly aggregates: AggregateTypes,
    private readonly deadLetters: DeadLetters,
    private readonly lag: LagHistory,
    @Inject(CONSOLE_OPTIONS) private readonly options: ResolvedConsoleOptions,
  ) {}

  @Get()
  @Redirect('messages', 302)
  home(): void {}

  @Get('messages')
  @Header('Content-Type', HTML)
  async messages(
    @Req() request: ConsoleRequest,
    @Query() search: SearchQuery,
  ): Promise<string> {
    const ctx = this.contexts.of(request);
    try {
      const result = await this.log.search(filterOf(search), {
        ...(typeof search.after === 'string' && { after: search.after }),
      });
      return messagesPage(ctx, search, result);
    } catch (error) {
      return messagesPage(ctx, search, undefined, shown(error));
    }
  }

  @Get('messages/:id')
  @Header('Content-Type', HTML)
  async message(
    @Req() request: ConsoleRequest,
    @Param('id') id: string,
  ): Promise<string> {
    const [rows, trace] = await Promise.all([
      this.log.get(id),
      this.log.trace(id),
    ]);
    return messagePage(this.contexts.of(request), id, rows, trace);
  }

  @Get('aggregates')
  @Header('Content-Type', HTML)
  async aggregate(
    @Req() request: ConsoleRequest,
    @Query('stream') stream?: string,
    @Query('at') at?: string,
    @Query('compare') compare?: string,
  ): Promise<string> {
    const ctx = this.contexts.of(request);
    const types = this.aggregates.types();
    if (!stream) return aggregatePage(ctx, types, undefined);
    try {
      const view = await this.view(stream.trim(), at, compare);
      return view
        ? aggregatePage(ctx, types, view)
        : aggregatePage(
            ctx,
            types,
            undefined,
            `Stream "${stream}" has no events.`,
          );
    } catch (error) {
      return aggregatePage(ctx, types, undefined, shown(error));
    }
  }

  @Get('consumers')
  @Header('Content-Type', HTML)
  async consumers(@Req() request: ConsoleRequest): Promise<string> {
    const { consumers, rebuilds } = await this.store.consumers();
    const letters = new Map<string, DeadLetterList>();
    for (const consumer of consumers) {
      if (consumer.parkedStreams > 0 || consumer.deadLetters > 0) {
        letters.set(
          consumer.consumer,
          await this.deadLetters.list(consumer.consumer),
        );
      }
    }
    const now = Date.now();
    return consumersPage(
      this.contexts.of(request),
      consumers,
      letters,
      rebuilds,
      {
        series: this.lag.series(now),
        now,
        ...(this.lag.since !== undefined && { since: this.lag.since }),
        sampleMs: this.options.lagSampleMs,
      },
    );
  }

  @Get('schedules')
  @Header('Content-Type', HTML)
  async schedules(@Req() request: ConsoleRequest): Promise<string> {
    return schedulesPage(
      this.contexts.of(request),
      await this.store.schedules(),
    );
  }

  private async view(
    stream: string,
    atText?: string,
    compareText?: string,
  ): Promise<AggregateView | undefined> {
    const head = await this.store.streamVersion(stream);
    if (head === 0) return undefined;
    const events = await this.store.stream(stream);
    const type = this.aggregates
      .types()
      .find((t) => stream.startsWith(`${t}-`));
    const at = versionIn(atText, head) ?? head;
    const compare = versionIn(compareText, head);
    const base = {
      stream,
      head,
      events,
      at,
      ...(compare !== undefined && { compare }),
    };
    if (!type) return base;
    const id = stream.slice(type.length + 1);
    const repository = this.aggregates.repository(type)!;
    const stateAt = async (version: number) =>
      aggregateStateOf(await repository.load(id, { atVersion: version }));
    const state = await stateAt(at);
    return {
      ...base,
      type,
      id,
      state,
      ...(compare !== undefined && {
        changes: diffStates(await stateAt(compare), state),
      }),
    };
  }
}

/** A version from the query string, kept within the stream; undefined when absent or not a number. */
function versionIn(text: string | undefined, head: number): number | undefined {
  if (text === undefined || text === '') return undefined;
  const version = Number(text);
  if (!Number.isInteger(version)) return undefined;
  return Math.min(Math.max(version, 1), head);
}
