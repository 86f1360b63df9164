import 'reflect-metadata';
import { AccessRuleError } from './security.errors.js';

/** What a handler or message class asks of the user a message runs as. */
export type AccessRule =
  | { readonly kind: 'public' }
  | { readonly kind: 'user' }
  | { readonly kind: 'roles'; readonly roles: readonly string[] };

const ACCESS_RULE = Symbol.for('chronicle:access-rule');

function rule(value: AccessRule): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(ACCESS_RULE, value, target);
  };
}

/** Any authenticated user: a message without a readable `metadata.user` is refused (`UnauthenticatedError`). */
export function RequiresUser(): ClassDecorator {
  return rule({ kind: 'user' });
}

/** A user with any one of `roles`; else `ForbiddenError` (or `UnauthenticatedError` without a user). */
export function RequiresRole(...roles: string[]): ClassDecorator {
  if (
    roles.length === 0 ||
    roles.some((role) => typeof role !== 'string' || role.trim() === '')
  ) {
    throw new AccessRuleError(
      `@RequiresRole needs one or more non-empty role names, e.g. @RequiresRole('admin', 'ops'); got ${JSON.stringify(roles)}.`,
    );
  }
  return rule({ kind: 'roles', roles: Object.freeze([...roles]) });
}

/** No user needed, also under `security.requireUser`. */
export function Public(): ClassDecorator {
  return rule({ kind: 'public' });
}

/** The rule declared on `target` itself or inherited from a base class. */
export function accessRuleOf(
  target: object | undefined,
): AccessRule | undefined {
  if (target === undefined) return undefined;
  return Reflect.getMetadata(ACCESS_RULE, target) as AccessRule | undefined;
}

/**
 * The rule for one handler class handling one message class: the handler
 * class's wins (it knows what it does), else the message class's, else the
 * default (`requireUser`), else none.
 */
export function resolveAccessRule(
  handlerClass: object | undefined,
  messageClass: object | undefined,
  requireUser: boolean,
): AccessRule | undefined {
  return (
    accessRuleOf(handlerClass) ??
    accessRuleOf(messageClass) ??
    (requireUser ? { kind: 'user' } : undefined)
  );
}
