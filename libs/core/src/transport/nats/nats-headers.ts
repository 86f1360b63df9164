import {
  headers as natsHeaders,
  type Match,
  type Msg,
  type MsgHdrs,
} from '@nats-io/transport-node';
import { TransportError } from '../transport.errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Header names already checked: printable ASCII but the colon, as NATS (and MIME) allow. */
const checkedKeys = new Set<string>();
const HEADER_KEY = /^[!-9;-~]+$/;
const LINE_BREAK = /[\r\n]/;

/**
 * A message's headers for the NATS client, written once as the bytes NATS
 * sends (`NATS/1.0`, then `Key: value` lines): the client puts on the wire
 * what `encode()` returns. Building the client's own `MsgHdrs` checks and
 * copies every header one by one, which cost more than the rest of a
 * request's encoding; the same checks are made here, once per header: a
 * name of printable ASCII without a colon, a value without CR or LF (what
 * would let a value forge another header). Every `MsgHdrs` method works
 * (on a copy made when first asked), so the object is what the client's
 * type says.
 */
export class EncodedHeaders implements MsgHdrs {
  private readonly bytes: Uint8Array;
  private copy?: MsgHdrs;

  constructor(private readonly written: Readonly<Record<string, string>>) {
    let text = 'NATS/1.0\r\n';
    for (const key in written) {
      const value = written[key];
      if (!checkedKeys.has(key)) {
        if (!HEADER_KEY.test(key)) throw invalid(`name ${JSON.stringify(key)}`);
        checkedKeys.add(key);
      }
      if (LINE_BREAK.test(value))
        throw invalid(`${key} value with a line break`);
      text += `${key}: ${value}\r\n`;
    }
    this.bytes = encoder.encode(`${text}\r\n`);
  }

  /** What the client sends (and counts against `max_payload`). */
  encode(): Uint8Array {
    return this.bytes;
  }

  /** Its size on the wire, in bytes. */
  get size(): number {
    return this.bytes.length;
  }

  private headers(): MsgHdrs {
    if (!this.copy) {
      this.copy = natsHeaders();
      for (const key in this.written) this.copy.append(key, this.written[key]);
    }
    return this.copy;
  }

  get hasError(): boolean {
    return false;
  }
  get status(): string {
    return '';
  }
  get code(): number {
    return 0;
  }
  get description(): string {
    return '';
  }
  get(k: string, match?: Match): string {
    return this.headers().get(k, match);
  }
  set(k: string, v: string, match?: Match): void {
    throw immutable(`set(${k}, ${v}, ${match})`);
  }
  append(k: string, v: string, match?: Match): void {
    throw immutable(`append(${k}, ${v}, ${match})`);
  }
  delete(k: string, match?: Match): void {
    throw immutable(`delete(${k}, ${match})`);
  }
  has(k: string, match?: Match): boolean {
    return this.headers().has(k, match);
  }
  keys(): string[] {
    return this.headers().keys();
  }
  values(k: string, match?: Match): string[] {
    return this.headers().values(k, match);
  }
  last(k: string, match?: Match): string {
    return this.headers().last(k, match);
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.headers()[Symbol.iterator]();
  }
}

function invalid(what: string): TransportError {
  return new TransportError(`Invalid NATS header ${what}.`);
}

function immutable(call: string): Error {
  return new TypeError(
    `Chronicle's encoded NATS headers are sent as written: ${call} is not supported.`,
  );
}

/** What the client's `Msg` keeps of a message as read off the socket (its own fields). */
interface ReceivedMsg {
  readonly _rdata?: unknown;
  readonly _msg?: { readonly hdr?: unknown };
}

/**
 * A received message's headers, the first value of each, as the sender
 * wrote them. Read from the header bytes the client received: its `headers`
 * getter builds a `MsgHdrs` checking and copying them one by one, which cost
 * more than the rest of reading a request. A client whose message keeps
 * them elsewhere (another version) is read through `headers`, as before.
 */
export function headersOf(msg: Msg): Record<string, string> {
  const received = msg as unknown as ReceivedMsg;
  const length = received._msg?.hdr;
  const data = received._rdata;
  if (typeof length !== 'number' || !(data instanceof Uint8Array))
    return headersOfMsgHdrs(msg.headers);
  const headers: Record<string, string> = {};
  if (length <= 0) return headers;
  const text = decoder.decode(data.subarray(0, length));
  // After the version line (`NATS/1.0`, with a status when the server sends one), `Key: value` lines.
  let start = text.indexOf('\r\n');
  if (start < 0) return headers;
  for (start += 2; start < text.length;) {
    let end = text.indexOf('\r\n', start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', start);
    if (colon > start && colon < end) {
      const key = text.slice(start, colon);
      if (!Object.hasOwn(headers, key))
        headers[key] = text.slice(colon + 1, end).trim();
    }
    start = end + 2;
  }
  return headers;
}

function headersOfMsgHdrs(h: MsgHdrs | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (h) for (const [key, values] of h) headers[key] = values[0];
  return headers;
}
