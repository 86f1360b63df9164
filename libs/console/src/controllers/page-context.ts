import { Inject, Injectable } from '@nestjs/common';
import { consoleUserOf, isAdmin } from '../access/console-user.js';
import { CsrfTokens } from '../access/csrf.js';
import {
  CONSOLE_OPTIONS,
  type ConsoleRequest,
  type ResolvedConsoleOptions,
} from '../console.options.js';
import type { PageContext } from '../html/index.js';

/** Builds each page's context from its request: who, admin or not, the CSRF token. */
@Injectable()
export class PageContexts {
  constructor(
    @Inject(CONSOLE_OPTIONS) private readonly options: ResolvedConsoleOptions,
    private readonly csrf: CsrfTokens,
  ) {}

  of(request: ConsoleRequest, notice?: unknown): PageContext {
    const user = consoleUserOf(request);
    return {
      base: this.options.path,
      admin: isAdmin(user, this.options.adminRole),
      ...(user && { userId: user.id }),
      csrf: this.csrf.tokenFor(user?.id),
      ...(typeof notice === 'string' && notice !== '' && { notice }),
    };
  }
}
