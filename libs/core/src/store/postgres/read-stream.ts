import type { ReadStreamOptions, StoredEvent } from '../event-store.js';
import type { PayloadCipher } from '../payload-cipher.js';
import type {
  BatchedStreamRead,
  ReplayedEvent,
  ReplayFields,
} from '../stream-batches.js';
import {
  describeRow,
  EventDecoder,
  replayColumns,
  STREAM_EVENT_COLUMNS,
  type EventRow,
} from './event-row.js';
import { textArray } from './read-all.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

const readStreamSql = (columns: string) => (s: StoreSchema) => `
  SELECT ${columns} FROM ${s.events} e
  WHERE e.stream_id = $1::text AND e.stream_version >= $2::bigint AND e.stream_version <= $3::bigint
  ORDER BY e.stream_version LIMIT $4::int`;

const wholeSql = readStreamSql(STREAM_EVENT_COLUMNS);
/** By [some types read whole][timestamps read]. */
const replaySql = [false, true].map((listed) =>
  [false, true].map((timed) => readStreamSql(replayColumns(listed, timed))),
);

const streamVersionSql = (s: StoreSchema) => `
  SELECT coalesce(max(stream_version), 0)::text AS version FROM ${s.events} WHERE stream_id = $1::text`;

/*
 * Without a batchSize, the first round trip fetches FIRST_BATCH rows (most
 * streams end there) and each next one GROWTH times more, up to MAX_BATCH: a
 * long stream costs a few round trips, not one per thousand events, while
 * what a read holds at once stays bounded.
 */
const FIRST_BATCH = 1000;
const GROWTH = 4;
const MAX_BATCH = 8000;

/** Every event read whole (`readStream`'s iteration, `nextBatch`). */
const WHOLE = 'whole';

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * One read of a stream in version order, a batch per round trip, walking the
 * unique index. Nothing is fetched before the first `next()`. A plain
 * iterator rather than an async generator: a generator costs several promise
 * turns per event, this one a single resolved promise.
 */
export class StreamRead
  implements BatchedStreamRead, AsyncIterableIterator<StoredEvent>
{
  private readonly decoder = new EventDecoder();
  private readonly last: number;
  private from: number;
  private batchSize: number;
  private readonly growing: boolean;
  /** Every row is fetched. */
  private finished = false;
  /** Stopped by `return()` or a failed fetch, like a generator after a throw. */
  private stopped = false;
  private rows: readonly EventRow[] = [];
  private index = 0;
  /** What the read fetches of each event, set by the first call. */
  private fields: ReplayFields | typeof WHOLE | undefined;
  /** The fetch under way: `next()` calls made meanwhile wait for it, in order. */
  private fetching: Promise<void> | undefined;

  constructor(
    private readonly client: SqlClient,
    private readonly schema: StoreSchema,
    private readonly streamId: string,
    options: ReadStreamOptions = {},
    private readonly cipher?: PayloadCipher,
  ) {
    this.last = options.toVersion ?? Number.MAX_SAFE_INTEGER;
    this.from = options.fromVersion ?? 1;
    this.growing = options.batchSize === undefined;
    this.batchSize = options.batchSize ?? FIRST_BATCH;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<StoredEvent>> {
    this.readWhole();
    if (this.fetching) return this.fetching.then(() => this.next());
    if (this.stopped) return Promise.resolve(DONE);
    if (this.index < this.rows.length) {
      const row = this.rows[this.index++];
      return Promise.resolve({
        done: false,
        value: this.decoder.decode(row, this.streamId),
      });
    }
    if (this.finished) return Promise.resolve(DONE);
    return this.fetch().then(() => this.next());
  }

  /** Stops the read (a `break` out of `for await`): nothing more is fetched. */
  return(): Promise<IteratorResult<StoredEvent>> {
    this.stop();
    return Promise.resolve(DONE);
  }

  nextReplayBatch(fields: ReplayFields): Promise<readonly ReplayedEvent[]> {
    this.fields ??= fields;
    return this.take((row) => this.decoder.decodeForReplay(row, this.streamId));
  }

  nextBatch(): Promise<readonly StoredEvent[]> {
    this.readWhole();
    return this.take((row) => this.decoder.decode(row, this.streamId));
  }

  /** The rows not handed out yet, fetching the next batch first if none are left. */
  private async take<E>(decode: (row: EventRow) => E): Promise<E[]> {
    while (this.fetching) await this.fetching;
    if (this.stopped) return [];
    if (this.index >= this.rows.length && !this.finished) await this.fetch();
    const events: E[] = [];
    for (const rows = this.rows; this.index < rows.length; this.index++) {
      events.push(decode(rows[this.index]));
    }
    return events;
  }

  private readWhole(): void {
    this.fields ??= WHOLE;
    if (this.fields !== WHOLE) {
      throw new TypeError('A replay read hands out replay batches only');
    }
  }

  private stop(): void {
    this.stopped = true;
    this.rows = [];
    this.index = 0;
  }

  private fetch(): Promise<void> {
    const fetching = this.fetchBatch().then(
      () => {
        this.fetching = undefined;
      },
      (error: unknown) => {
        this.fetching = undefined;
        this.stop();
        throw error;
      },
    );
    this.fetching = fetching;
    return fetching;
  }

  private async fetchBatch(): Promise<void> {
    if (this.from > this.last) {
      this.finished = true;
      this.rows = [];
      this.index = 0;
      return;
    }
    const limit = this.batchSize;
    const fields = this.fields;
    const range = [this.streamId, this.from, this.last, limit];
    let rows: EventRow[];
    if (fields === WHOLE || fields === undefined) {
      rows = await this.client.query<EventRow>(
        this.schema.sql(wholeSql),
        range,
        { prepare: true },
      );
    } else {
      const listed = fields.wholeTypes.length > 0;
      rows = await this.client.query<EventRow>(
        this.schema.sql(replaySql[Number(listed)][Number(fields.timestamps)]),
        listed ? [...range, textArray(fields.wholeTypes)] : range,
        { prepare: true },
      );
    }
    if (this.stopped) return;
    const opening = this.cipher?.open(rows, this.client, (i) =>
      describeRow(rows[i], this.streamId),
    );
    if (opening) await opening;
    if (this.stopped) return;
    this.rows = rows;
    this.index = 0;
    if (rows.length < limit) {
      this.finished = true;
    } else {
      // The head starts with the position, then the stream version.
      const head = rows[rows.length - 1].head;
      const from = head.indexOf(',') + 1;
      this.from = Number(head.slice(from, head.indexOf(',', from))) + 1;
      if (this.growing) {
        this.batchSize = Math.min(this.batchSize * GROWTH, MAX_BATCH);
      }
    }
  }
}

export async function streamVersion(
  client: SqlClient,
  schema: StoreSchema,
  streamId: string,
): Promise<number> {
  const rows = await client.query<{ version: string }>(
    schema.sql(streamVersionSql),
    [streamId],
    { prepare: true },
  );
  return Number(rows[0].version);
}
