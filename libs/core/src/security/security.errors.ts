import { ChronicleError, ErrorType } from '../messages/index.js';

/**
 * A handler that needs a user got a message without one, or with one the
 * `UserProvider` could not read. Declared (`@ErrorType`), so a caller in
 * another app gets this class back.
 */
@ErrorType('chronicle.Unauthenticated')
export class UnauthenticatedError extends ChronicleError {
  readonly code = 'UNAUTHENTICATED';

  constructor(
    /** The refused message's type. */
    readonly messageType: string,
    /** `missing`: no `metadata.user`; `unreadable`: the provider refused it. */
    readonly reason: 'missing' | 'unreadable',
    detail?: string,
  ) {
    super(
      reason === 'missing'
        ? `${messageType} needs a user, and the message carries none: send it as a user (CurrentUser.runAs, the UserInterceptor for HTTP, --user for the CLI), or mark its handler @Public().`
        : `${messageType} carries a user the UserProvider cannot read${detail ? ` (${detail})` : ''}: send it as a user the app's UserProvider serialized.`,
    );
  }
}

/** The message's user has none of the roles its handler requires. */
@ErrorType('chronicle.Forbidden')
export class ForbiddenError extends ChronicleError {
  readonly code = 'FORBIDDEN';

  constructor(
    readonly messageType: string,
    readonly userId: string,
    /** The roles of which the user needs any one. */
    readonly requiredRoles: readonly string[],
  ) {
    super(
      `User ${userId} may not have ${messageType} handled: it needs one of the roles ${requiredRoles.join(', ')}.`,
    );
  }
}

/** A value is not a user as the `UserProvider` reads them (thrown by `deserialize`). */
export class UnreadableUserError extends ChronicleError {
  readonly code = 'UNREADABLE_USER';
}

/** `@RequiresRole()` was given no role, or a role that is not a non-empty string. */
export class AccessRuleError extends ChronicleError {
  readonly code = 'ACCESS_RULE';
}

/** Whether `error` is a refusal of access: it must not be retried. */
export function isAccessRefusal(
  error: unknown,
): error is UnauthenticatedError | ForbiddenError {
  return (
    error instanceof UnauthenticatedError || error instanceof ForbiddenError
  );
}
