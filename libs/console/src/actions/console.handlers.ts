import { Inject } from '@nestjs/common';
import {
  CommandHandler,
  CurrentUser,
  DeadLetters,
  ForbiddenError,
  Scheduler,
  UnauthenticatedError,
  type DropOutcome,
  type ICommandHandler,
  type RetryOutcome,
  type User,
} from '@chronicle/core';
import {
  CONSOLE_OPTIONS,
  type ResolvedConsoleOptions,
} from '../console.options.js';
import {
  CancelSchedule,
  DropDeadLetters,
  RetryDeadLetters,
} from './console.commands.js';
import { ProcessScheduleCancelError } from './console.errors.js';
import { processOf } from '../reading/schedule-list.js';

/** How long a retry from the console waits for the segment's owner. */
export const RETRY_TIMEOUT_MS = 15_000;

/**
 * The admin role is the console's option, not a decorator's constant, so the
 * handlers check it themselves: a command sent from elsewhere (the CLI, another
 * app) is held to the same rule as a button.
 */
abstract class AdminOnly {
  constructor(
    private readonly currentUser: CurrentUser,
    private readonly options: ResolvedConsoleOptions,
  ) {}

  protected requireAdmin(type: string): User {
    const user = this.currentUser.get();
    if (!user) throw new UnauthenticatedError(type, 'missing');
    if (!(user.roles ?? []).includes(this.options.adminRole)) {
      throw new ForbiddenError(type, user.id, [this.options.adminRole]);
    }
    return user;
  }
}

@CommandHandler(RetryDeadLetters)
export class RetryDeadLettersHandler
  extends AdminOnly
  implements ICommandHandler<RetryDeadLetters>
{
  constructor(
    currentUser: CurrentUser,
    @Inject(CONSOLE_OPTIONS) options: ResolvedConsoleOptions,
    private readonly deadLetters: DeadLetters,
  ) {
    super(currentUser, options);
  }

  execute({ consumer, stream }: RetryDeadLetters): Promise<RetryOutcome[]> {
    this.requireAdmin('chronicle.console.RetryDeadLetters');
    return this.deadLetters.retry(consumer, {
      ...(stream !== undefined && { stream }),
      timeoutMs: RETRY_TIMEOUT_MS,
    });
  }
}

@CommandHandler(DropDeadLetters)
export class DropDeadLettersHandler
  extends AdminOnly
  implements ICommandHandler<DropDeadLetters>
{
  constructor(
    currentUser: CurrentUser,
    @Inject(CONSOLE_OPTIONS) options: ResolvedConsoleOptions,
    private readonly deadLetters: DeadLetters,
  ) {
    super(currentUser, options);
  }

  execute({ consumer, stream }: DropDeadLetters): Promise<DropOutcome[]> {
    const user = this.requireAdmin('chronicle.console.DropDeadLetters');
    return this.deadLetters.drop(consumer, {
      ...(stream !== undefined && { stream }),
      by: `${user.id} (console)`,
    });
  }
}

@CommandHandler(CancelSchedule)
export class CancelScheduleHandler
  extends AdminOnly
  implements ICommandHandler<CancelSchedule>
{
  constructor(
    currentUser: CurrentUser,
    @Inject(CONSOLE_OPTIONS) options: ResolvedConsoleOptions,
    private readonly scheduler: Scheduler,
  ) {
    super(currentUser, options);
  }

  async execute({ id }: CancelSchedule): Promise<void> {
    this.requireAdmin('chronicle.console.CancelSchedule');
    const schedule = await this.scheduler.get(id);
    const process =
      schedule &&
      processOf(
        schedule.type,
        typeof schedule.payload?.key === 'string' ? schedule.payload.key : null,
      );
    if (process) throw new ProcessScheduleCancelError(id, process);
    await this.scheduler.cancel(id);
  }
}
