import {
  MessageContext,
  runWithMetadata,
  scopeMetadata,
} from '../messages/index.js';
import { AccessCheck, USER_METADATA_KEY } from './access-check.js';
import { UnauthenticatedError } from './security.errors.js';
import type { User } from './user-provider.js';

/**
 * Who the running code acts as, and a way to run code as someone. Every
 * message made inside `runAs` (commands, queries, events, schedules) carries
 * the user in `metadata.user`, and so does everything their handlers cause.
 * Injectable anywhere in a Chronicle app.
 */
export class CurrentUser<U = User> {
  constructor(private readonly access: AccessCheck) {}

  /**
   * The user the code runs as: the innermost `runAs`, else the user of the
   * message being handled; undefined when there is none. Throws
   * `UnauthenticatedError` when the handled message names a user the provider
   * cannot read.
   */
  get(): U | undefined {
    const metadata = scopeMetadata() ?? MessageContext.current()?.metadata;
    if (metadata?.[USER_METADATA_KEY] === undefined) return undefined;
    return this.access.userIn(metadata, 'the running code') as U;
  }

  /** `get()`, or `UnauthenticatedError` when no user runs the code. */
  require(): U {
    const user = this.get();
    if (user === undefined) {
      throw new UnauthenticatedError('the running code', 'missing');
    }
    return user;
  }

  /** Runs `fn` as `user`: what it sends, appends and schedules carries the user. */
  runAs<R>(user: U, fn: () => R): R {
    return runWithMetadata(this.access.metadataFor(user), fn);
  }

  /** Runs `fn` as the provider's system user (maintenance the app starts itself). */
  runAsSystem<R>(fn: () => R): R {
    return runWithMetadata(
      { [USER_METADATA_KEY]: this.access.systemUserValue() },
      fn,
    );
  }
}
