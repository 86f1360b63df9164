import { randomFillSync } from 'node:crypto';
import { v5 } from 'uuid';

// The random part of ids, printed in blocks: one system call and one string
// per BLOCK ids, each id then made of slices of that string after its time
// prefix. Printing each id's 20 hex digits one by one showed in every
// envelope's cost.
const BLOCK = 512;
const RANDOM_BYTES = 10;
/** `7xxx-yxxx-xxxxxxxxxxxx`: version 7, 74 random bits, the variant. */
const TAIL = 22;
/**
 * Each tail is taken in two slices of 11: V8 copies a slice shorter than 13
 * characters, where a longer one would keep the whole block alive for as long
 * as any id made from it.
 */
const HALF = TAIL / 2;
const random = Buffer.allocUnsafe(BLOCK * RANDOM_BYTES);
const printed = Buffer.allocUnsafe(BLOCK * TAIL);
let tails = '';
let next = BLOCK;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const DASH = 0x2d;

/** Prints `byte` as two hex digits at `out`; returns the offset after them. */
function printByte(byte: number, out: number): number {
  printed[out] = HEX_DIGITS[byte >> 4];
  printed[out + 1] = HEX_DIGITS[byte & 0x0f];
  return out + 2;
}

/** Prints a new block of random tails. */
function refill(): void {
  randomFillSync(random);
  let out = 0;
  for (let r = 0; r < random.length; r += RANDOM_BYTES) {
    out = printByte(0x70 | (random[r] & 0x0f), out);
    out = printByte(random[r + 1], out);
    printed[out++] = DASH;
    out = printByte(0x80 | (random[r + 2] & 0x3f), out);
    out = printByte(random[r + 3], out);
    printed[out++] = DASH;
    for (let i = 4; i < RANDOM_BYTES; i++) out = printByte(random[r + i], out);
  }
  tails = printed.toString('latin1');
  next = 0;
}

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
 */
export function newMessageId(): string {
  return messageIdAt(Date.now());
}

/** `newMessageId` for a caller that has read the clock already (`nowMs`, the message's time). */
export function messageIdAt(nowMs: number): string {
  if (next === BLOCK) refill();
  const at = next++ * TAIL;
  return (
    timePrefix(nowMs) +
    tails.slice(at, at + HALF) +
    tails.slice(at + HALF, at + TAIL)
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
