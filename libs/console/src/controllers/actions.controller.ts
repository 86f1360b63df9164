import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  ChronicleError,
  CommandBus,
  CurrentUser,
  type Command,
  type RetryOutcome,
} from '@chronicle/core';
import { ConsoleAccessGuard } from '../access/console-access.guard.js';
import { consoleUserOf } from '../access/console-user.js';
import { CsrfTokens } from '../access/csrf.js';
import {
  CancelSchedule,
  DropDeadLetters,
  RetryDeadLetters,
} from '../actions/console.commands.js';
import {
  CONSOLE_OPTIONS,
  type ConsoleRequest,
  type ResolvedConsoleOptions,
} from '../console.options.js';
import { query } from '../html/index.js';
import { ConsoleHeadersInterceptor } from './console-headers.interceptor.js';

interface ActionForm {
  readonly consumer?: unknown;
  readonly stream?: unknown;
  readonly id?: unknown;
}

interface Redirecting {
  redirect(status: number, url: string): void;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new BadRequestException(`The form lacks "${field}".`);
  }
  return value;
}

const optional = (value: unknown) =>
  typeof value === 'string' && value !== '' ? value : undefined;

const events = (n: number) => `${n} ${n === 1 ? 'event' : 'events'}`;

function retried(outcomes: readonly RetryOutcome[]): string {
  if (outcomes.length === 0) return 'Nothing was parked.';
  return outcomes
    .map((o) =>
      o.status === 'applied'
        ? `${o.stream}: ${events(o.applied)} handled, flowing again.`
        : o.status === 'failed'
          ? `${o.stream}: failed again (${o.error}); ${o.remaining} events stay parked.`
          : `${o.stream}: the owner did not answer yet; the retry stays asked.`,
    )
    .join(' ');
}

/**
 * The admin's buttons. The guard has checked the role and the CSRF token;
 * each action runs as a command, as the request's user, so the message log
 * shows who did what. The browser is sent back to the page with the outcome.
 */
@Controller('actions')
@UseGuards(ConsoleAccessGuard)
@UseInterceptors(ConsoleHeadersInterceptor)
export class ActionsController {
  constructor(
    @Inject(CONSOLE_OPTIONS) private readonly options: ResolvedConsoleOptions,
    private readonly commands: CommandBus,
    private readonly currentUser: CurrentUser,
    private readonly csrf: CsrfTokens,
  ) {}

  @Post('retry')
  @HttpCode(303)
  async retry(
    @Req() request: ConsoleRequest,
    @Body() form: ActionForm,
    @Res() response: Redirecting,
  ) {
    const command = new RetryDeadLetters(
      text(form.consumer, 'consumer'),
      optional(form.stream),
    );
    const notice = await this.run(request, command, retried);
    this.back(response, 'consumers', notice);
  }

  @Post('drop')
  @HttpCode(303)
  async drop(
    @Req() request: ConsoleRequest,
    @Body() form: ActionForm,
    @Res() response: Redirecting,
  ) {
    const command = new DropDeadLetters(
      text(form.consumer, 'consumer'),
      optional(form.stream),
    );
    const notice = await this.run(request, command, (dropped) =>
      dropped.length === 0
        ? 'Nothing was parked.'
        : dropped
            .map((d) => `${d.stream}: ${events(d.events)} dropped.`)
            .join(' '),
    );
    this.back(response, 'consumers', notice);
  }

  @Post('cancel-schedule')
  @HttpCode(303)
  async cancel(
    @Req() request: ConsoleRequest,
    @Body() form: ActionForm,
    @Res() response: Redirecting,
  ) {
    const id = text(form.id, 'id');
    const notice = await this.run(
      request,
      new CancelSchedule(id),
      () => `Schedule ${id} cancelled.`,
    );
    this.back(response, 'schedules', notice);
  }

  /** Runs the command as the request's user; a Chronicle error becomes the notice. */
  /** Back to the page the form was on, with the outcome as a signed notice (POST, redirect, GET). */
  private back(response: Redirecting, page: string, notice: string): void {
    response.redirect(
      303,
      `${this.options.path}/${page}${query({ notice, sig: this.csrf.signNotice(notice) })}`,
    );
  }

  private async run<R>(
    request: ConsoleRequest,
    command: Command<R>,
    describe: (result: R) => string,
  ): Promise<string> {
    const user = consoleUserOf(request)!;
    try {
      const result = await this.currentUser.runAs(
        { id: user.id, roles: [...user.roles] },
        () => this.commands.execute(command),
      );
      return describe(result);
    } catch (error) {
      if (error instanceof ChronicleError) return `Refused: ${error.message}`;
      throw error;
    }
  }
}
