import type { PostgresEventStore } from '../store/index.js';
import { readSegments, requestReset } from './positions.js';
import { resolveResetTarget, type ResetTarget } from './reset-target.js';
import { ConsumerNotFoundError } from './tracking.errors.js';

/**
 * Asks the instances running a consumer to replay it from `to` (what
 * `npx chronicle replay` does). A running instance applies it within a lease
 * renewal, with the consumer's `@OnReset` hooks; if none runs, the next one
 * to start does. Returns the checkpoint the consumer will continue after.
 */
export async function requestReplay(
  store: PostgresEventStore,
  consumer: string,
  options: { to: ResetTarget },
): Promise<{ transactionId: bigint; position: bigint }> {
  const segments = await readSegments(store.client, store.schema, consumer);
  if (segments.length === 0) throw new ConsumerNotFoundError(consumer, []);
  const to = await resolveResetTarget(
    store.client,
    store.schema,
    store,
    options.to,
  );
  await requestReset(store.client, store.schema, consumer, to);
  return to;
}
