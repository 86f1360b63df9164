import { randomFillSync } from 'node:crypto';
import { v5 } from 'uuid';

// Randomness for ids, drawn from the OS in blocks: one system call per ~400 ids
// rather than one per id, which showed in every envelope's cost (10 bytes an id).
const POOL_SIZE = 16 * 256;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** Takes 10 random bytes from the pool; returns the offset of the first. */
function random10(): number {
  if (offset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += 10;
  return at;
}

const HEX = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);

// The first 48 bits of a v7 id are the time in ms: printed once per ms.
let prefixMs = -1;
let prefix = '';

function timePrefix(ms: number): string {
  if (ms !== prefixMs) {
    const hex = ms.toString(16).padStart(12, '0');
    prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-`;
    prefixMs = ms;
  }
  return prefix;
}

/**
 * A new message id: a UUID v7 (RFC 9562: 48 bits of Unix time in ms, the
 * version, 74 random bits with the variant), so ids sort by creation time.
 * Printed straight from the pool: no byte array, no lower-casing per id.
 */
export function newMessageId(): string {
  const r = random10();
  return (
    timePrefix(Date.now()) +
    HEX[0x70 | (pool[r] & 0x0f)] +
    HEX[pool[r + 1]] +
    '-' +
    HEX[0x80 | (pool[r + 2] & 0x3f)] +
    HEX[pool[r + 3]] +
    '-' +
    HEX[pool[r + 4]] +
    HEX[pool[r + 5]] +
    HEX[pool[r + 6]] +
    HEX[pool[r + 7]] +
    HEX[pool[r + 8]] +
    HEX[pool[r + 9]]
  );
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
