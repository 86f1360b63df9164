import { createHash } from 'node:crypto';

/**
 * The segment of a consumer's own sequence key among `count` (see
 * `ConsumerOptions.sequenceBy`): the first four bytes of the key's SHA-256,
 * so every process, version and platform agrees. (The stream split hashes in
 * SQL; a key exists only once the event is read, so it hashes here.)
 */
export function segmentOfKey(key: string, count: number): number {
  if (count === 1) return 0;
  return createHash('sha256').update(key).digest().readUInt32BE(0) % count;
}
