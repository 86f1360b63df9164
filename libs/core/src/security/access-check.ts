import { Logger } from '@nestjs/common';
import { checkMetadata } from '../messages/index.js';
import { resolveAccessRule, type AccessRule } from './access.decorators.js';
import { ForbiddenError, UnauthenticatedError } from './security.errors.js';
import type { SecurityOptions } from './security.options.js';
import { DefaultUserProvider, type UserProvider } from './user-provider.js';

/** The metadata key a message's user travels under. */
export const USER_METADATA_KEY = 'user';

type Metadata = Readonly<Record<string, unknown>>;

const NO_RULE = null;

/**
 * The serving side's check of who a message runs as, before its handler:
 * the command pipeline (in process and off the wire alike), consumers and
 * schedule deliveries call it. A handler that asks nothing costs one cached
 * lookup; the user is read only where a rule needs it.
 */
export class AccessCheck {
  readonly provider: UserProvider<unknown>;
  readonly requireUser: boolean;
  private readonly logger = new Logger('ChronicleSecurity');
  // handler class -> message class -> rule (null: none), resolved once per pair.
  private readonly rules = new WeakMap<
    object,
    WeakMap<object, AccessRule | null>
  >();
  // What each metadata object's user was read as: one read per message, however many handlers.
  private readonly users = new WeakMap<Metadata, unknown>();

  constructor(options: SecurityOptions = {}) {
    this.provider = options.userProvider ?? new DefaultUserProvider();
    this.requireUser = options.requireUser ?? false;
  }

  /** The rule for `handlerClass` handling `messageClass`, or null when nothing is asked. */
  ruleFor(
    handlerClass: object,
    messageClass: object,
    requireUser = this.requireUser,
  ): AccessRule | null {
    if (requireUser !== this.requireUser) {
      // Asked once at bootstrap (consumers): not worth a cache of its own.
      const rule = resolveAccessRule(handlerClass, messageClass, requireUser);
      return rule === undefined || rule.kind === 'public' ? NO_RULE : rule;
    }
    let byMessage = this.rules.get(handlerClass);
    if (byMessage === undefined) {
      byMessage = new WeakMap();
      this.rules.set(handlerClass, byMessage);
    }
    let found = byMessage.get(messageClass);
    if (found === undefined) {
      found =
        resolveAccessRule(handlerClass, messageClass, requireUser) ?? NO_RULE;
      if (found?.kind === 'public') found = NO_RULE;
      byMessage.set(messageClass, found);
    }
    return found;
  }

  /**
   * Throws `UnauthenticatedError` or `ForbiddenError` when the message,
   * with `metadata`, may not run under `rule`.
   */
  enforce(rule: AccessRule, metadata: Metadata, messageType: string): void {
    const user = this.userIn(metadata, messageType);
    if (rule.kind !== 'roles') return;
    const roles = this.provider.rolesOf(user);
    if (rule.roles.some((role) => roles.includes(role))) return;
    throw new ForbiddenError(messageType, this.provider.idOf(user), rule.roles);
  }

  /** The user `metadata` names, read by the provider; throws `UnauthenticatedError` when there is none or it is unreadable. */
  userIn(metadata: Metadata, messageType: string): unknown {
    if (this.users.has(metadata)) return this.users.get(metadata);
    const value = metadata[USER_METADATA_KEY];
    if (value === undefined || value === null) {
      throw new UnauthenticatedError(messageType, 'missing');
    }
    let user: unknown;
    try {
      user = this.provider.deserialize(value);
    } catch (error) {
      // The provider's reason, never the value: it is whatever a sender claimed.
      throw new UnauthenticatedError(
        messageType,
        'unreadable',
        error instanceof Error ? error.message.slice(0, 200) : undefined,
      );
    }
    this.users.set(metadata, user);
    return user;
  }

  /** `metadata` with the system user when it names no user: a schedule the app armed itself. */
  withSystemUser<M extends Metadata>(metadata: M): M {
    if (metadata[USER_METADATA_KEY] !== undefined) return metadata;
    return { ...metadata, [USER_METADATA_KEY]: this.systemUserValue() };
  }

  /** The system user as metadata carries it. */
  systemUserValue(): unknown {
    return this.provider.serialize(this.provider.systemUser());
  }

  /** `user` as metadata carries it, checked as any metadata is. */
  metadataFor(user: unknown): Metadata {
    return checkMetadata(
      { [USER_METADATA_KEY]: this.provider.serialize(user) },
      'user metadata',
    );
  }

  /** Says in the serving app's log that a handling was refused (events and schedules: no caller hears it). */
  logRefusal(error: Error, what: string): void {
    this.logger.warn(`${what} was refused: ${error.name}: ${error.message}`);
  }
}
