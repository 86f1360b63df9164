import type { CanActivate, Type } from '@nestjs/common';
import { ChronicleError } from '@chronicle/core';

/** An HTTP request as the console reads it (Express's, or any with these fields). */
export interface ConsoleRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Set by your authentication (passport, a guard): `{ id, roles }`. */
  user?: unknown;
  readonly query?: unknown;
  readonly body?: unknown;
}

/** Decides who may see the console; may set `request.user`. */
export type ConsoleGuardFunction = (
  request: ConsoleRequest,
) => boolean | Promise<boolean>;

export interface ConsoleOptions {
  /** Where the console is served. Default `/chronicle`. */
  readonly path?: string;
  /**
   * Who may see the console: a Nest guard class (resolved from the app's
   * injector, or built by Nest when it is not a provider) or a function of
   * the request. Required: a console open to anyone is never the default.
   * Pass `() => true` explicitly for a console behind your own gateway.
   */
  readonly guard: Type<CanActivate> | ConsoleGuardFunction;
  /** The role in `request.user.roles` that shows and allows actions. Default `admin`. */
  readonly adminRole?: string;
  /**
   * The secret CSRF tokens are derived from. Default: random per process,
   * so give every instance of an app behind one address the same secret.
   */
  readonly csrfSecret?: string;
  /**
   * How often the console samples each consumer's lag for the consumers
   * page's chart, in ms (at least 1000). The last hour is kept in memory,
   * per console process. Default 30 000.
   */
  readonly lagSampleMs?: number;
}

export interface ResolvedConsoleOptions {
  readonly path: string;
  readonly guard: Type<CanActivate> | ConsoleGuardFunction;
  readonly adminRole: string;
  readonly csrfSecret?: string;
  readonly lagSampleMs: number;
}

export const CONSOLE_OPTIONS = Symbol('CONSOLE_OPTIONS');

/** Console options that cannot work; the message says which and how to fix it. */
export class ConsoleOptionsError extends ChronicleError {
  readonly code = 'CONSOLE_OPTIONS';
}

const PATH = /^\/[A-Za-z0-9._~\-/]*$/;

export function resolveConsoleOptions(
  options: ConsoleOptions,
): ResolvedConsoleOptions {
  if (typeof options?.guard !== 'function') {
    throw new ConsoleOptionsError(
      'ChronicleConsoleModule.forRoot needs a `guard`: a Nest guard class or a function of the request deciding who may see the console (pass `() => true` to leave it to something in front of the app).',
    );
  }
  const path = (options.path ?? '/chronicle').replace(/\/+$/, '') || '/';
  if (!PATH.test(path) || path === '/') {
    throw new ConsoleOptionsError(
      `console path "${options.path}" must start with "/", name a folder other than the root, and hold only letters, digits and "-._~/"; e.g. "/chronicle".`,
    );
  }
  const adminRole = options.adminRole ?? 'admin';
  if (typeof adminRole !== 'string' || adminRole === '') {
    throw new ConsoleOptionsError(
      'adminRole must be a non-empty role name, e.g. "admin".',
    );
  }
  const lagSampleMs = options.lagSampleMs ?? 30_000;
  if (!Number.isInteger(lagSampleMs) || lagSampleMs < 1000) {
    throw new ConsoleOptionsError(
      `lagSampleMs ${String(options.lagSampleMs)} must be a whole number of milliseconds, at least 1000 (the console keeps an hour of samples in memory); e.g. 30000.`,
    );
  }
  return {
    path,
    guard: options.guard,
    adminRole,
    lagSampleMs,
    ...(options.csrfSecret !== undefined && {
      csrfSecret: options.csrfSecret,
    }),
  };
}
