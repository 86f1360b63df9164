import type { ConsoleRequest } from '../console.options.js';

/** The user of a request, in the shape issue 19's users have: an id and roles. */
export interface ConsoleUser {
  readonly id: string;
  readonly roles: readonly string[];
}

/** `request.user` when it is a user (`{ id, roles }`), else undefined. */
export function consoleUserOf(
  request: ConsoleRequest,
): ConsoleUser | undefined {
  const user = request.user as { id?: unknown; roles?: unknown } | undefined;
  if (!user || typeof user.id !== 'string' || user.id === '') return undefined;
  const roles = Array.isArray(user.roles)
    ? user.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return { id: user.id, roles };
}

export function isAdmin(user: ConsoleUser | undefined, role: string): boolean {
  return user?.roles.includes(role) ?? false;
}
