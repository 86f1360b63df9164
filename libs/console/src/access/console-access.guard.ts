import {
  ForbiddenException,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  CONSOLE_OPTIONS,
  type ConsoleGuardFunction,
  type ConsoleRequest,
  type ResolvedConsoleOptions,
} from '../console.options.js';
import { consoleUserOf, isAdmin } from './console-user.js';
import { CsrfTokens } from './csrf.js';

/**
 * Every console route: the app's guard decides who may look; a POST (an
 * action) also needs the admin role and the user's CSRF token, whatever the
 * page showed, so a crafted request from a reader is refused with 403.
 */
@Injectable()
export class ConsoleAccessGuard implements CanActivate {
  private guard?: CanActivate;

  constructor(
    @Inject(CONSOLE_OPTIONS) private readonly options: ResolvedConsoleOptions,
    private readonly moduleRef: ModuleRef,
    private readonly csrf: CsrfTokens,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    if (!(await this.admitted(context, request))) return false;
    if (request.method !== 'POST') return true;
    const user = consoleUserOf(request);
    if (!isAdmin(user, this.options.adminRole)) {
      throw new ForbiddenException(
        `Console actions need the "${this.options.adminRole}" role.`,
      );
    }
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!this.csrf.matches(user?.id, body.csrf)) {
      throw new ForbiddenException(
        'The form is stale or was not sent by the console: reload the page and try again.',
      );
    }
    return true;
  }

  private async admitted(
    context: ExecutionContext,
    request: ConsoleRequest,
  ): Promise<boolean> {
    const guard = this.options.guard;
    if (!isGuardClass(guard)) return guard(request);
    this.guard ??= await this.resolve(guard);
    return (await this.guard.canActivate(context)) === true;
  }

  private async resolve(type: Type<CanActivate>): Promise<CanActivate> {
    try {
      return this.moduleRef.get(type, { strict: false });
    } catch {
      return this.moduleRef.create(type);
    }
  }
}

function isGuardClass(
  guard: ResolvedConsoleOptions['guard'],
): guard is Type<CanActivate> {
  return (
    typeof (guard as Type<CanActivate>).prototype?.canActivate === 'function'
  );
}

export type { ConsoleGuardFunction };
