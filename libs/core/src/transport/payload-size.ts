import { HEADER } from './wire-format.js';
import {
  ReplyTooLargeError,
  RequestTooLargeError,
} from './transport.errors.js';
import type { WireMessage } from './transport.js';

// "NATS/1.0\r\n" + "key: value\r\n" per header + "\r\n", as NATS encodes headers.
const HEADER_PREAMBLE = 'NATS/1.0\r\n'.length + 2;

/**
 * A message's size as NATS counts it against `max_payload`: its encoded
 * headers and its body, in bytes. The local transport counts the same way.
 */
export function wireSizeOf(message: WireMessage): number {
  return headersSizeOf(message) + Buffer.byteLength(message.body);
}

function headersSizeOf(message: WireMessage): number {
  const keys = Object.keys(message.headers);
  if (keys.length === 0) return 0;
  let size = HEADER_PREAMBLE;
  for (const key of keys) {
    size +=
      Buffer.byteLength(key) + 4 + Buffer.byteLength(message.headers[key]);
  }
  return size;
}

/** The size on the wire when over `limit`, else undefined (measuring the body only when it may not fit). */
function sizeOver(message: WireMessage, limit: number): number | undefined {
  const headers = headersSizeOf(message);
  // A UTF-16 code unit is at most 3 bytes of UTF-8.
  if (headers + message.body.length * 3 <= limit) return undefined;
  const size = headers + Buffer.byteLength(message.body);
  return size > limit ? size : undefined;
}

/**
 * Throws `RequestTooLargeError` when a request already encoded for the wire,
 * `size` bytes (as `wireSizeOf` counts), does not fit `limit` (none: no limit).
 */
export function checkEncodedRequestFits(
  size: number,
  limit: number | undefined,
  messageType: string,
  messageId: string,
): void {
  if (limit === undefined || size <= limit) return;
  throw new RequestTooLargeError(messageType, messageId, size, limit);
}

/** Throws `RequestTooLargeError` when a request does not fit `limit` (none: no limit). */
export function checkRequestFits(
  message: WireMessage,
  limit: number | undefined,
  messageType?: string,
): void {
  if (limit === undefined) return;
  const size = sizeOver(message, limit);
  if (size === undefined) return;
  throw new RequestTooLargeError(
    messageType ?? message.headers[HEADER.type] ?? '(unknown type)',
    message.headers[HEADER.id] ?? '(no id)',
    size,
    limit,
  );
}

/**
 * The reply to send for `reply`: itself when it fits `limit`, else a
 * `REPLY_TOO_LARGE` error reply the caller turns into `ReplyTooLargeError`
 * (returned with it, for the server's log).
 */
export function fittingReply(
  reply: WireMessage,
  limit: number | undefined,
  messageType: string,
  messageId: string,
): { reply: WireMessage; tooLarge?: ReplyTooLargeError } {
  const size = limit === undefined ? undefined : sizeOver(reply, limit);
  if (limit === undefined || size === undefined) return { reply };
  const tooLarge = new ReplyTooLargeError(messageType, messageId, size, limit);
  return {
    reply: {
      headers: { [HEADER.status]: 'error' },
      body: JSON.stringify({
        name: tooLarge.name,
        code: tooLarge.code,
        message: tooLarge.message,
        size,
        limit,
      }),
    },
    tooLarge,
  };
}
