import { randomFillSync } from 'node:crypto';
import { v5, v7 } from 'uuid';

// Randomness for ids, drawn from the OS in blocks: one system call per 256 ids
// rather than one per id, which showed in every envelope's cost.
const POOL_SIZE = 16 * 256;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function random16(): Uint8Array {
  if (offset + 16 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + 16);
  offset += 16;
  return bytes;
}

/** A new message id: a UUID v7, so ids sort by creation time. */
export function newMessageId(): string {
  return v7({ random: random16() });
}

// The namespace of every derived id (a fixed, random UUID: changing it would
// change every derived id, and make in-flight retries look new).
const DERIVED_ID_NAMESPACE = '6b1f3c3e-4d0a-4a57-9a4e-2f9d7c51e0a8';

/**
 * The id of the `ordinal`-th message of `type` that `handler` sent while
 * handling message `parentId`: a UUID v5, the same every time it is asked.
 * Per type, so that a handler changed to send one more message of another
 * type does not shift the ids of the ones it sent before.
 */
export function deriveMessageId(
  parentId: string,
  handler: string,
  type: string,
  ordinal: number,
): string {
  return v5(
    `${parentId}\n${handler}\n${type}\n${ordinal}`,
    DERIVED_ID_NAMESPACE,
  );
}
