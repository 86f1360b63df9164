import type { PostgresEventStore } from '../store/index.js';
import { readSegments, requestReset } from './positions.js';
import { askedTarget, checkTarget, type ResetTarget } from './reset-target.js';
import { ConsumerNotFoundError } from './tracking.errors.js';

/**
 * Asks the instances running a consumer to replay it from `to` (what
 * `npx chronicle replay` does). A running instance applies it within a lease
 * renewal, with the consumer's `@OnReset` hooks; if none runs, the next one
 * to start does. What is stored is what was asked (the beginning, a date, a
 * position): the consumer resolves it when it applies it, capped at the safe
 * horizon, so an event whose transaction is still open now is not skipped.
 */
export async function requestReplay(
  store: PostgresEventStore,
  consumer: string,
  options: { to: ResetTarget },
): Promise<void> {
  const segments = await readSegments(store.client, store.schema, consumer);
  if (segments.length === 0) throw new ConsumerNotFoundError(consumer, []);
  const target = askedTarget(options.to);
  await checkTarget(store.client, store.schema, target);
  await requestReset(store.client, store.schema, consumer, target);
}
