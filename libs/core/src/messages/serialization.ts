import { instanceToPlain, plainToInstance } from 'class-transformer';
import type { MessageClass } from './message-type.registry.js';

/**
 * A message instance as plain JSON. class-transformer runs so that `@Exclude`,
 * `@Expose` and `@Transform` on message classes are honoured.
 */
export function toPayload(message: object): Record<string, unknown> {
  return instanceToPlain(message) as Record<string, unknown>;
}

/**
 * Rebuilds a message instance from its JSON form. Nested classes and dates
 * need `@Type(() => ...)` on their properties, as usual with class-transformer.
 */
export function fromPayload<T extends object>(
  target: MessageClass<T>,
  payload: unknown,
): T {
  return plainToInstance(
    target as unknown as new () => T,
    payload as Record<string, unknown>,
  );
}
