import type { PostgresEventStore } from '../store/index.js';
import { listSkipped, type SkippedLetter } from './dead-letters.js';
import {
  dropParkedStreams,
  listParkedStreams,
  requestRetry,
  retryState,
  type ParkedStreamRow,
} from './parked-streams.js';
import { readSegments } from './positions.js';
import {
  ConsumerNotFoundError,
  StreamNotParkedError,
} from './tracking.errors.js';

/*
 * What `DeadLetters` and `npx chronicle dead-letters` do, on a store: the
 * service runs them in an app, the CLI from another process. A retry is
 * asked for in the stream's row and run by the segment's owner, wherever it
 * runs; this side waits for the answer.
 */

/** A parked stream: its first parked event (the one that fails), how many wait, the last error. */
export type ParkedSequence = ParkedStreamRow;

export type { SkippedLetter } from './dead-letters.js';

/** What `list` returns: the parked sequences (`park`) and the skipped events (`skip`). */
export interface DeadLetterList {
  readonly consumer: string;
  readonly parked: readonly ParkedSequence[];
  readonly skipped: readonly SkippedLetter[];
}

/** How a stream's retry ended. */
export interface RetryOutcome {
  readonly stream: string;
  /**
   * `applied`: every parked event ran and the stream flows again; `failed`:
   * one failed again and it and the rest stay parked; `pending`: the
   * segment's owner did not answer in time (no instance runs the consumer,
   * say): the request stays and the next owner runs it.
   */
  readonly status: 'applied' | 'failed' | 'pending';
  /** Parked events applied by this retry. */
  readonly applied: number;
  /** Parked events still waiting. */
  readonly remaining: number;
  /** The new error, when it failed again. */
  readonly error?: string;
  /** The attempts of the first event still parked, when it failed again. */
  readonly attempts?: number;
}

/** A stream dropped: its parked events are gone, never handled. */
export interface DropOutcome {
  readonly stream: string;
  readonly events: number;
}

export interface DeadLetterQuery {
  /** One stream; all of the consumer's when omitted. */
  readonly stream?: string;
}

export interface RetryOptions extends DeadLetterQuery {
  /** How long to wait for the owners' answer. Default 30 s. */
  readonly timeoutMs?: number;
}

export interface DropOptions extends DeadLetterQuery {
  /** Who dropped them, for the log line. */
  readonly by?: string;
}

const DEFAULT_RETRY_TIMEOUT_MS = 30_000;
const WAIT_STEP_MS = 25;

async function checkConsumer(
  store: PostgresEventStore,
  consumer: string,
): Promise<void> {
  const segments = await readSegments(store.client, store.schema, consumer);
  if (segments.length === 0) throw new ConsumerNotFoundError(consumer, []);
}

export async function listDeadLetters(
  store: PostgresEventStore,
  consumer: string,
  query: DeadLetterQuery = {},
): Promise<DeadLetterList> {
  await checkConsumer(store, consumer);
  const { client, schema } = store;
  return {
    consumer,
    parked: await listParkedStreams(client, schema, consumer, query.stream),
    skipped: await listSkipped(client, schema, consumer, query.stream),
  };
}

/**
 * Asks the owners of the consumer's segments to retry its parked streams (or
 * one), then waits up to `timeoutMs` for each answer. `asked` runs once the
 * request is stored (the service wakes the local segments there).
 */
export async function retryParked(
  store: PostgresEventStore,
  consumer: string,
  options: RetryOptions = {},
  asked?: () => void,
): Promise<RetryOutcome[]> {
  await checkConsumer(store, consumer);
  const { client, schema } = store;
  const before = new Map(
    (await listParkedStreams(client, schema, consumer, options.stream)).map(
      (p) => [p.stream, p.events],
    ),
  );
  const streams = await requestRetry(client, schema, consumer, options.stream);
  if (options.stream !== undefined && streams.length === 0)
    throw new StreamNotParkedError(consumer, options.stream);
  if (streams.length === 0) return [];
  asked?.();
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_RETRY_TIMEOUT_MS);
  let state = await retryState(client, schema, consumer, streams);
  while (
    [...state.values()].some((s) => s.requested) &&
    Date.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    state = await retryState(client, schema, consumer, streams);
  }
  const failed = new Map(
    (await listParkedStreams(client, schema, consumer, options.stream)).map(
      (p) => [p.stream, p],
    ),
  );
  return streams.map((stream): RetryOutcome => {
    const now = state.get(stream);
    const had = before.get(stream) ?? 0;
    if (!now) return { stream, status: 'applied', applied: had, remaining: 0 };
    const applied = Math.max(0, had - now.events);
    if (now.requested)
      return { stream, status: 'pending', applied, remaining: now.events };
    const row = failed.get(stream);
    return {
      stream,
      status: 'failed',
      applied,
      remaining: now.events,
      error: row?.error,
      attempts: row?.attempts,
    };
  });
}

/** Deletes the consumer's parked streams (or one) and their events: they are never handled. */
export async function dropParked(
  store: PostgresEventStore,
  consumer: string,
  options: DropOptions = {},
): Promise<DropOutcome[]> {
  await checkConsumer(store, consumer);
  const dropped = await dropParkedStreams(
    store.client,
    store.schema,
    consumer,
    options.stream,
  );
  if (options.stream !== undefined && dropped.length === 0)
    throw new StreamNotParkedError(consumer, options.stream);
  return dropped;
}

/** The log line of a drop: what, who, when. */
export function describeDrop(
  consumer: string,
  dropped: readonly DropOutcome[],
  by: string,
  at = new Date(),
): string {
  const what = dropped
    .map((d) => `${d.stream} (${d.events} event${d.events === 1 ? '' : 's'})`)
    .join(', ');
  return `Consumer "${consumer}": dropped parked stream${dropped.length === 1 ? '' : 's'} ${what} by ${by} at ${at.toISOString()}; those events will not be handled.`;
}
