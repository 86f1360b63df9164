import type { MessageKind } from '../../messages/index.js';
import {
  errorSubject,
  eventsSubject,
  messageSubject,
  presenceSubject,
} from '../subjects.js';

/** A command or query type, by its stable name. */
export interface RoutedType {
  readonly kind: Extract<MessageKind, 'command' | 'query'>;
  readonly name: string;
}

/** What one app does on NATS, as its bootstrap decided: the input of `natsPermissions`. */
export interface AppRoutes {
  readonly namespace: string;
  /** The types its enabled handlers serve. */
  readonly served: readonly RoutedType[];
  /** The types it sends over NATS (every registered type bound to a remote handler). */
  readonly sent: readonly RoutedType[];
  /** The failed types whose error messages its `@HandleError` methods take; `*` for all. */
  readonly errorsHandled: readonly string[];
}

/** A nats-server user's `permissions`, in the server's own field names. */
export interface NatsPermissions {
  readonly publish: { readonly allow: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
  /** Replies to the requests it received: served commands and queries, presence answers. */
  readonly allow_responses: true;
}

/** The prefix of every reply inbox the client makes (`createInbox()`). */
export const INBOX_SUBJECTS = '_INBOX.>';

/**
 * The least a Chronicle app needs of NATS, subject by subject, as the
 * transport uses it (see `subjects.ts` and its callers):
 * - served types: subscribe to `chronicle.<ns>.<kind>.<Type>` (queue group of
 *   the same name), and presence on `chronicle.<ns>.serving.<kind>.<Type>`
 *   (subscribe, and publish a hello whose answers come to an inbox);
 * - sent types: publish to their subjects (requests); the replies come to
 *   `_INBOX.>`, which every app subscribes to;
 * - the store's wake-ups `chronicle.<ns>.events`: published after each
 *   commit, subscribed by every instance (`RelayedAppendSignal`);
 * - error messages: published on `chronicle.<ns>.error.<FailedType>` for any
 *   failed message (a command, query, schedule or event), subscribed only
 *   for the types the app's `@HandleError` methods take;
 * - replies (to requests served, to presence hellos): `allow_responses`, so
 *   no publish right on `_INBOX.>` is needed.
 * JetStream and KV are not used: no `$JS` subjects.
 */
export function natsPermissions(routes: AppRoutes): NatsPermissions {
  const { namespace: ns } = routes;
  const publish = new Set<string>();
  const subscribe = new Set<string>();
  for (const { kind, name } of routes.served) {
    subscribe.add(messageSubject(ns, kind, name));
    subscribe.add(presenceSubject(ns, kind, name));
    publish.add(presenceSubject(ns, kind, name));
  }
  for (const { kind, name } of routes.sent)
    publish.add(messageSubject(ns, kind, name));
  publish.add(eventsSubject(ns));
  subscribe.add(eventsSubject(ns));
  publish.add(errorSubject(ns));
  const errors = routes.errorsHandled.includes('*')
    ? [errorSubject(ns)]
    : routes.errorsHandled.map((type) => errorSubject(ns, type));
  for (const subject of errors) subscribe.add(subject);
  subscribe.add(INBOX_SUBJECTS);
  return {
    publish: { allow: [...publish].sort() },
    subscribe: { allow: [...subscribe].sort() },
    allow_responses: true,
  };
}

/**
 * The environment variable a generated config reads the password from:
 * `<USER>_NATS_PASSWORD`, so the file never holds a secret.
 */
export function passwordVariableOf(user: string): string {
  return `${user.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_NATS_PASSWORD`;
}

/**
 * A nats-server `authorization` block with one user and these permissions.
 * The password is a reference to an environment variable of the server
 * (`$<USER>_NATS_PASSWORD`): nats-server refuses to start while it is unset.
 */
export function authorizationBlock(
  user: string,
  permissions: NatsPermissions,
): string {
  const list = (subjects: readonly string[]) =>
    subjects.map((s) => `            ${JSON.stringify(s)}`).join('\n');
  return [
    'authorization {',
    '  users: [',
    '    {',
    `      user: ${JSON.stringify(user)}`,
    `      password: $${passwordVariableOf(user)}`,
    '      permissions: {',
    '        publish: {',
    '          allow: [',
    list(permissions.publish.allow),
    '          ]',
    '        }',
    '        subscribe: {',
    '          allow: [',
    list(permissions.subscribe.allow),
    '          ]',
    '        }',
    '        allow_responses: true',
    '      }',
    '    }',
    '  ]',
    '}',
  ].join('\n');
}
