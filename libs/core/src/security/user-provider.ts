import { isPlainObject } from '../messages/index.js';
import { UnreadableUserError } from './security.errors.js';

/** A JSON value, as a user travels in metadata. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** The user the default provider reads and writes: an id and its roles. */
export interface User {
  readonly id: string;
  readonly roles?: readonly string[];
}

/**
 * How the app's user travels in `metadata.user` and what it may do: the
 * port an app implements when its users are not `{ id, roles }` (claims of a
 * token, a tenant...). `deserialize` runs on the serving side on whatever a
 * message claims: it must throw on anything it does not recognise. Give one
 * as `security.userProvider`.
 */
export abstract class UserProvider<U = User> {
  /** The user as JSON, for `metadata.user`. Never put secrets (tokens) here: metadata is stored and logged. */
  abstract serialize(user: U): JsonValue;
  /** The user a message's `metadata.user` names; throws when it is not one. */
  abstract deserialize(value: unknown): U;
  /** The roles `@RequiresRole` looks for. */
  abstract rolesOf(user: U): readonly string[];
  /** The user's id, as refusals and logs name it. */
  abstract idOf(user: U): string;
  /** Who runs what no user started: a schedule armed by the app itself (`@Periodic`). */
  abstract systemUser(): U;
}

/** The id and role of `DefaultUserProvider`'s system user. */
export const SYSTEM_USER_ID = 'system';

/** The provider for `{ id: string; roles?: string[] }`, used unless the app gives its own. */
export class DefaultUserProvider extends UserProvider<User> {
  serialize(user: User): JsonValue {
    const checked = this.deserialize(user);
    return checked.roles === undefined
      ? { id: checked.id }
      : { id: checked.id, roles: [...checked.roles] };
  }

  deserialize(value: unknown): User {
    if (!isPlainObject(value)) {
      throw new UnreadableUserError(
        'a user must be an object { id: string, roles?: string[] }',
      );
    }
    const { id, roles } = value as { id?: unknown; roles?: unknown };
    if (typeof id !== 'string' || id.trim() === '' || id.length > 200) {
      throw new UnreadableUserError(
        "a user's id must be a non-empty string of at most 200 characters",
      );
    }
    if (roles === undefined) return { id };
    if (
      !Array.isArray(roles) ||
      roles.some((role) => typeof role !== 'string' || role === '')
    ) {
      throw new UnreadableUserError(
        `user ${id}'s roles must be an array of non-empty strings`,
      );
    }
    return { id, roles: roles as string[] };
  }

  rolesOf(user: User): readonly string[] {
    return user.roles ?? [];
  }

  idOf(user: User): string {
    return user.id;
  }

  systemUser(): User {
    return { id: SYSTEM_USER_ID, roles: [SYSTEM_USER_ID] };
  }
}
