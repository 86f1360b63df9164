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
export const EVENT_COLUMNS = `concat_ws(',', e.position, e.stream_version, e.revision,
  trunc(extract(epoch FROM e.created_at) * 1000)::int8, e.transaction_id, e.id) AS head,
  e.stream_id, e.type, e.payload, e.metadata::text AS metadata`;

/** EVENT_COLUMNS without the stream id, for reads of one stream (which know it). */
export const STREAM_EVENT_COLUMNS = EVENT_COLUMNS.replace('e.stream_id, ', '');

const EPOCH_MS = 'trunc(extract(epoch FROM e.created_at) * 1000)::int8';

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
 * reader cannot change another's.
 */
export class EventDecoder {
  private metadataText: string | undefined;
  private metadata: MessageMetadata | undefined;

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
      revision: Number(head.slice(p2 + 1, p3)),
      payload: row.payload,
      metadata: this.metadataOf(row.metadata),
      timestamp: new Date(Number(head.slice(p3 + 1, p4))),
      streamId,
      streamVersion: Number(head.slice(p1 + 1, p2)),
      position: BigInt(head.slice(0, p1)),
      transactionId: BigInt(head.slice(p4 + 1, p5)),
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
      revision: Number(head.slice(p2 + 1, p3 < 0 ? undefined : p3)),
      payload: row.payload,
      streamVersion: Number(head.slice(p1 + 1, p2)),
      position: BigInt(head.slice(0, p1)),
      timestamp: p3 < 0 ? undefined : new Date(Number(head.slice(p3 + 1))),
    };
  }

  private metadataOf(text: string): MessageMetadata {
    if (text !== this.metadataText || this.metadata === undefined) {
      this.metadata = Object.freeze(JSON.parse(text) as MessageMetadata);
      this.metadataText = text;
    }
    return this.metadata;
  }
}

/** An event named in an error by what every read has of it. */
export function describeRow(row: EventRow, streamId = row.stream_id): string {
  const head = row.head;
  const p1 = head.indexOf(',');
  const version = head.slice(p1 + 1, head.indexOf(',', p1 + 1));
  return `${row.type} (version ${version} of stream ${streamId}, position ${head.slice(0, p1)})`;
}
