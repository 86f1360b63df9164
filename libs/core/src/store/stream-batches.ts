import type { StoredEvent } from './event-store.js';

/**
 * What a replay reads of an event it does not ask for whole: enough to
 * rebuild and apply it, or to name it in an error.
 */
export interface PartStoredEvent extends Pick<
  StoredEvent,
  'type' | 'revision' | 'payload' | 'streamVersion' | 'position'
> {
  /** Absent: this is not the whole stored event. */
  readonly id?: undefined;
  /** Read when the replay asked for timestamps. */
  readonly timestamp?: Date;
}

/** An event as a replay reads it: whole for the types it asked so, else in part. */
export type ReplayedEvent = StoredEvent | PartStoredEvent;

/** What a replay needs of each event besides type, revision, payload, version and position. */
export interface ReplayFields {
  /** Types read whole (every field, metadata included): those an upcaster may see. */
  readonly wholeTypes: readonly string[];
  /** Whether every event's timestamp is read (a replay up to a date). */
  readonly timestamps: boolean;
}

/**
 * A stream read that can hand its events over a batch at a time. The
 * PostgreSQL store's `readStream` returns one; `batchesOf` and
 * `replayBatchesOf` use it when it is there, so a reader that folds a long
 * stream (aggregate loading) pays no promise per event, only one per round
 * trip, and the database sends only what the fold needs.
 */
export interface BatchedStreamRead extends AsyncIterable<StoredEvent> {
  /** The next events in version order; an empty array at the end of the read. */
  nextBatch(): Promise<readonly StoredEvent[]>;
  /**
   * `nextBatch` for a replay: the events of `fields.wholeTypes` whole, the
   * others in part. The fields of the first call hold for the whole read.
   */
  nextReplayBatch(fields: ReplayFields): Promise<readonly ReplayedEvent[]>;
}

function isBatched(
  stream: AsyncIterable<StoredEvent>,
): stream is BatchedStreamRead {
  return (
    typeof (stream as Partial<BatchedStreamRead>).nextReplayBatch === 'function'
  );
}

/** The events of a stream read, a batch at a time (of one event when the store offers no batches). */
export async function* batchesOf(
  stream: AsyncIterable<StoredEvent>,
): AsyncGenerator<readonly StoredEvent[]> {
  if (!isBatched(stream)) {
    for await (const event of stream) yield [event];
    return;
  }
  for (;;) {
    const batch = await stream.nextBatch();
    if (batch.length === 0) return;
    yield batch;
  }
}

/** `batchesOf` for a replay that needs only `fields` of most events. */
export async function* replayBatchesOf(
  stream: AsyncIterable<StoredEvent>,
  fields: ReplayFields,
): AsyncGenerator<readonly ReplayedEvent[]> {
  if (!isBatched(stream)) {
    for await (const event of stream) yield [event];
    return;
  }
  for (;;) {
    const batch = await stream.nextReplayBatch(fields);
    if (batch.length === 0) return;
    yield batch;
  }
}
