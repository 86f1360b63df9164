/** What happens to fields a message's class does not declare (see "Fields" in the commands guide). */
export type UnknownFieldsPolicy = 'strip' | 'refuse';

/** How commands, queries and scheduled messages are checked before their handler runs. */
export interface MessageOptions {
  /**
   * Fields a command, query or scheduled payload carries that its class does
   * not declare (`isAdmin` added by a caller): `'strip'` removes them before
   * the handler runs; `'refuse'` fails the message with a `ValidationError`
   * naming them (class-validator's `forbidNonWhitelisted`). Events read from
   * the store are history and are never stripped. Default `'strip'`.
   */
  readonly unknownFields?: UnknownFieldsPolicy;
}

export const MESSAGE_OPTIONS = Symbol('chronicle:message-options');
