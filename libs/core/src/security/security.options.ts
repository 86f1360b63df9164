import type { UserProvider } from './user-provider.js';

/** Who may have what handled (see docs/guides/security.md, "Users and roles"). */
export interface SecurityOptions {
  /**
   * How users travel in `metadata.user` and which roles they have. Default:
   * `DefaultUserProvider`, for `{ id: string; roles?: string[] }`.
   */
  // Any user type: the provider is only ever handed back users it read or was given for runAs.
  readonly userProvider?: UserProvider<unknown>;
  /**
   * Every command and query handler needs a user unless it (or its message
   * class) is `@Public()`. Default false: only `@RequiresUser` and
   * `@RequiresRole` ask for one.
   */
  readonly requireUser?: boolean;
}

export const SECURITY_OPTIONS = Symbol('chronicle:security-options');
