import type { MessageMetadata } from '../../messages/index.js';
import type { StoredEvent } from '../event-store.js';
import type { ReplayedEvent } from '../stream-batches.js';

/*
 * What a read selects of each event, shaped for the client's cost, not the
 * server's: a driver pays about as much per column as for a JSON.parse of a
 * small payload, so the scalar fields (position, stream version, revision,
 * time, transaction id, id) travel as one text, `head`, cut up here. Big
 * numbers stay text until BigInt() so both drivers agree. The metadata comes
 * as text: the events of one command share it, so equal texts in a row are
 * parsed once (see EventDecoder).
 *
 * Reads alias the table as `e` and must ORDER BY `e.column`: an output alias
 * of the same name would otherwise win.
 */
/*
 * The time in epoch milliseconds, truncated toward zero (as a Date holds it).
 * extract() is exact but computes in numeric, a fifth of a read's cost on
 * the server; date_part() computes in float8, exact to well under half a
 * microsecond from 1970 to 2100 (µs / 1e6, then * 1000: two roundings), so
 * adding half a microsecond before truncating gives the same milliseconds
 * (checked against extract() over millions of times, ms-aligned and not).
 * Outside those years, extract().
 */
const EPOCH_MS = `CASE WHEN e.created_at >= '1970-01-01Z' AND e.created_at < '2100-01-01Z'
    THEN trunc(date_part('epoch', e.created_at) * 1000 + 0.0005)::int8
    ELSE trunc(extract(epoch FROM e.created_at) * 1000)::int8 END`;

export const EVENT_COLUMNS = `concat_ws(',', e.position, e.stream_version, e.revision,
  ${EPOCH_MS}, e.transaction_id, e.id) AS head,
  e.stream_id, e.type, e.payload, e.metadata::text AS metadata`;

/** EVENT_COLUMNS without the stream id, for reads of one stream (which know it). */
export const STREAM_EVENT_COLUMNS = EVENT_COLUMNS.replace('e.stream_id, ', '');

/**
 * The columns of a replay of one stream: no metadata, transaction id, id, nor
 * (unless `timed`) timestamp, the server's cost of sending which is most of
 * a read's; with `listed`, the events of the types in `$5` (a text[]
 * literal, cast once per statement, not per row) come whole.
 */
export function replayColumns(listed: boolean, timed: boolean): string {
  const time = timed ? `, ${EPOCH_MS}` : '';
  if (!listed) {
    return `concat_ws(',', e.position, e.stream_version, e.revision${time}) AS head, e.type, e.payload`;
  }
  const whole = 'e.type = ANY ((SELECT $5::text::text[])::text[])';
  return `concat_ws(',', e.position, e.stream_version, e.revision,
  CASE WHEN ${whole} THEN concat_ws(',', ${EPOCH_MS}, e.transaction_id, e.id)
    ${timed ? `ELSE ${EPOCH_MS}::text ` : ''}END) AS head,
  e.type, e.payload, CASE WHEN ${whole} THEN e.metadata::text END AS metadata`;
}

export interface EventRow {
  /** `position,stream_version,revision,epoch ms,transaction_id,id`. */
  head: string;
  /** Absent from reads of one stream. */
  stream_id?: string;
  type: string;
  payload: Record<string, unknown>;
  /** The metadata's JSON text (absent or null when the row is not read whole). */
  metadata: string;
}

/**
 * Turns rows into stored events. One per read (or batch): it remembers the
 * last metadata it parsed, and hands the same object to the next events with
 * the same metadata text. Stored metadata is therefore frozen: one event's
 * reader cannot change another's. The events of one append also share their
 * transaction id and, mostly, their time: those are parsed again only when
 * their text changes (a bigint is a value, so sharing one changes nothing).
 */
export class EventDecoder {
  private metadataText: string | undefined;
  private metadata: MessageMetadata | undefined;
  private transactionText = '';
  private transactionId = 0n;
  private epochText = '';
  private epochMs = 0;

  decode(row: EventRow, streamId = row.stream_id as string): StoredEvent {
    const head = row.head;
    const p1 = head.indexOf(',');
    const p2 = head.indexOf(',', p1 + 1);
    const p3 = head.indexOf(',', p2 + 1);
    const p4 = head.indexOf(',', p3 + 1);
    const p5 = head.indexOf(',', p4 + 1);
    return {
      id: head.slice(p5 + 1),
      type: row.type,
      revision: integerAt(head, p2 + 1, p3),
      payload: row.payload,
      metadata: this.metadataOf(row.metadata),
      timestamp: new Date(this.epochAt(head, p3 + 1, p4)),
      streamId,
      streamVersion: integerAt(head, p1 + 1, p2),
      position: bigintAt(head, 0, p1),
      transactionId: this.transactionAt(head, p4 + 1, p5),
    };
  }

  /** A row of a replay read: whole, or in part (a head of 3 or 4 fields). */
  decodeForReplay(row: EventRow, streamId: string): ReplayedEvent {
    const head = row.head;
    const p1 = head.indexOf(',');
    const p2 = head.indexOf(',', p1 + 1);
    const p3 = head.indexOf(',', p2 + 1);
    const p4 = p3 < 0 ? -1 : head.indexOf(',', p3 + 1);
    if (p4 >= 0) return this.decode(row, streamId);
    return {
      type: row.type,
      revision: integerAt(head, p2 + 1, p3 < 0 ? head.length : p3),
      payload: row.payload,
      streamVersion: integerAt(head, p1 + 1, p2),
      position: bigintAt(head, 0, p1),
      timestamp:
        p3 < 0 ? undefined : new Date(this.epochAt(head, p3 + 1, head.length)),
    };
  }

  private metadataOf(text: string): MessageMetadata {
    if (text !== this.metadataText || this.metadata === undefined) {
      this.metadata = Object.freeze(JSON.parse(text) as MessageMetadata);
      this.metadataText = text;
    }
    return this.metadata;
  }

  private transactionAt(head: string, from: number, to: number): bigint {
    if (!textAt(head, from, to, this.transactionText)) {
      this.transactionText = head.slice(from, to);
      this.transactionId = BigInt(this.transactionText);
    }
    return this.transactionId;
  }

  private epochAt(head: string, from: number, to: number): number {
    if (!textAt(head, from, to, this.epochText)) {
      this.epochText = head.slice(from, to);
      this.epochMs = Number(this.epochText);
    }
    return this.epochMs;
  }
}

/** Whether head[from, to) is `text`, without cutting it out. */
function textAt(head: string, from: number, to: number, text: string): boolean {
  return to - from === text.length && head.startsWith(text, from);
}

/**
 * The number printed in head[from, to), as Number() reads it: summed digit
 * by digit (exact up to 15 digits) rather than cut out and parsed, which
 * costs a string per field per event.
 */
export function integerAt(head: string, from: number, to: number): number {
  if (to - from > 15) return Number(head.slice(from, to));
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = head.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number(head.slice(from, to));
    value = value * 10 + digit;
  }
  return value;
}

/** The bigint printed in head[from, to): through a number when that is exact. */
export function bigintAt(head: string, from: number, to: number): bigint {
  return to - from <= 15 && to > from
    ? BigInt(integerAt(head, from, to))
    : BigInt(head.slice(from, to));
}

/** An event named in an error by what every read has of it. */
export function describeRow(row: EventRow, streamId = row.stream_id): string {
  const head = row.head;
  const p1 = head.indexOf(',');
  const version = head.slice(p1 + 1, head.indexOf(',', p1 + 1));
  return `${row.type} (version ${version} of stream ${streamId}, position ${head.slice(0, p1)})`;
}
