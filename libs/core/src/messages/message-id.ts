import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

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
