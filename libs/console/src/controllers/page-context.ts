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

  /** The context of a page; the notice in its query string is shown only when an action signed it. */
  of(request: ConsoleRequest): PageContext {
    const user = consoleUserOf(request);
    const { notice, sig } = (request.query ?? {}) as Record<string, unknown>;
    return {
      base: this.options.path,
      admin: isAdmin(user, this.options.adminRole),
      ...(user && { userId: user.id }),
      csrf: this.csrf.tokenFor(user?.id),
      ...(this.csrf.noticeSigned(notice, sig) && { notice }),
    };
  }
}
