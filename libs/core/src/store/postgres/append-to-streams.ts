import { createHash } from 'node:crypto';
import { checkStreamId } from '../../messages/index.js';
import { ConcurrencyError } from '../concurrency.error.js';
import type {
  AppendOptions,
  AppendResult,
  ExpectedVersion,
  HandledCommand,
  MessageLogRecord,
  StreamAppend,
} from '../event-store.js';
import {
  AppendNotFirstWriteError,
  CommandAlreadyHandledError,
  InvalidAppendError,
} from '../store.errors.js';
import {
  checkHandledCommand,
  checkNewEvent,
  checkStorableJson,
} from './append-checks.js';
import { secondsSince, type ChronicleMetrics } from '../../telemetry/index.js';
import { appendSql, type AppendRow } from './append-sql.js';
import { isUniqueViolation, type SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

// Each lost race means another writer got in, so this bounds waiting, not progress.
const RACE_ATTEMPTS = 100;
const SAVEPOINT = 'chronicle_append';

/** What a store bound to a caller's transaction remembers between its appends. */
export interface AppendState {
  /**
   * Whether an append of this store ran its insert in the transaction (even one
   * that then failed): the transaction's id may be its own, not another write's.
   */
  appendedBefore: boolean;
}

/** One unit of work's append, checked and serialized once, ready to send alone or in a batch. */
export interface Prepared {
  readonly appends: readonly StreamAppend[];
  /** The events as a JSON array, each with its `streamId`. */
  readonly eventsJson: string;
  /** `[{stream_id, expected}]` as JSON. */
  readonly expectationsJson: string;
  readonly command: HandledCommand | undefined;
  /** The command's result as JSON text (null without a command). */
  readonly resultJson: string | null;
  /** The message log row to write with the events, as JSON (null without one). */
  readonly logJson: string | null;
  readonly eventCount: number;
}

/**
 * Appends in one statement (see append-sql.ts). A race lost on a stream's next
 * version runs the statement again, whatever the expectation: the database
 * checks every expectation afresh, so 'any' and 'exists' then succeed and a
 * number that no longer holds gets its `ConcurrencyError`. Inside a caller's
 * transaction the statement runs under a savepoint, so the retry is possible
 * there too, after locking the streams for the transaction so that its
 * writers to one stream queue instead of racing.
 */
export async function appendToStreams(
  client: SqlClient,
  schema: StoreSchema,
  appends: readonly StreamAppend[],
  options: AppendOptions = {},
  state: AppendState = { appendedBefore: false },
  metrics?: ChronicleMetrics,
): Promise<AppendResult[]> {
  const prepared = prepareAppend(appends, options);
  if (client.inTransaction) {
    return appendInTransaction(client, schema, prepared, state, metrics);
  }
  return appendAlone(client, schema, prepared, metrics, state.appendedBefore);
}

/** Appends one unit of work in its own statement, outside any transaction. */
export async function appendAlone(
  client: SqlClient,
  schema: StoreSchema,
  prepared: Prepared,
  metrics?: ChronicleMetrics,
  /** A write of this store's (a PGlite key, see PayloadCipher) came first in a joined transaction. */
  afterOwnWrite = false,
): Promise<AppendResult[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return toResults(
        prepared,
        await run(client, schema, prepared, afterOwnWrite, metrics),
      );
    } catch (error) {
      if (!lostRace(error)) throw translate(error, prepared);
      if (attempt >= RACE_ATTEMPTS) {
        throw await raceExhausted(client, schema, prepared.appends, error);
      }
    }
  }
}

async function appendInTransaction(
  tx: SqlClient,
  schema: StoreSchema,
  prepared: Prepared,
  state: AppendState,
  metrics: ChronicleMetrics | undefined,
): Promise<AppendResult[]> {
  await tx.exec(
    `${lockStreams(schema, prepared.appends)} SAVEPOINT ${SAVEPOINT};`,
  );
  for (let attempt = 1; ; attempt++) {
    let rows: AppendRow[];
    try {
      rows = await run(tx, schema, prepared, state.appendedBefore, metrics);
    } catch (error) {
      // The savepoint is undone, but the transaction keeps the id its failed
      // insert took: that write was this store's own.
      state.appendedBefore = true;
      await tx.exec(`ROLLBACK TO SAVEPOINT ${SAVEPOINT};`);
      if (lostRace(error) && attempt < RACE_ATTEMPTS) continue;
      await tx.exec(`RELEASE SAVEPOINT ${SAVEPOINT};`);
      if (lostRace(error))
        throw await raceExhausted(tx, schema, prepared.appends, error);
      throw translate(error, prepared);
    }
    await tx.exec(`RELEASE SAVEPOINT ${SAVEPOINT};`);
    const verdict = rows[0];
    if (verdict?.ok && verdict.first_write && verdict.in_order) {
      state.appendedBefore = true;
    }
    return toResults(prepared, rows);
  }
}

/**
 * Transaction-scoped advisory locks on the streams, in one order: writers in
 * transactions then take turns on a stream, each reading it after the last
 * one committed, so none takes a transaction id before losing a race. The
 * keys are computed here, so the statement needs no parameters and shares a
 * round trip with the savepoint.
 */
function lockStreams(
  schema: StoreSchema,
  appends: readonly StreamAppend[],
): string {
  const space = int32(`chronicle.stream:${schema.name}`);
  const keys = [...new Set(appends.map((a) => int32(a.streamId)))].sort(
    (a, b) => a - b,
  );
  if (keys.length === 0) return '';
  const locks = keys.map((key) => `pg_advisory_xact_lock(${space}, ${key})`);
  return `SELECT ${locks.join(', ')};`;
}

function int32(text: string): number {
  return createHash('sha1').update(text).digest().readInt32BE(0);
}

/** Checks an append (`InvalidAppendError`) and serializes it once. */
export function prepareAppend(
  appends: readonly StreamAppend[],
  options: AppendOptions = {},
): Prepared {
  const seen = new Set<string>();
  const expectations: { stream_id: string; expected: string }[] = [];
  const events: Record<string, unknown>[] = [];
  for (const append of appends) {
    checkStreamId(append.streamId);
    if (seen.has(append.streamId)) {
      throw new InvalidAppendError(
        `Stream "${append.streamId}" appears twice in one append; merge its events into one entry.`,
      );
    }
    seen.add(append.streamId);
    expectations.push({
      stream_id: append.streamId,
      expected: checkExpected(append.streamId, append.expectedVersion),
    });
    for (const event of append.events) {
      checkNewEvent(append.streamId, event);
      events.push({ ...event, streamId: append.streamId });
    }
  }
  const command = options.handledCommand;
  if (command) checkHandledCommand(command);
  const eventsJson = JSON.stringify(events);
  // `{}` for undefined, `{"value":null}` for null: a repeat returns what the first call did.
  const resultJson = command ? JSON.stringify({ value: command.result }) : null;
  checkStorableJson(
    eventsJson,
    appends.flatMap((a) => a.events),
    resultJson,
    command,
  );
  return {
    appends,
    eventsJson,
    expectationsJson: JSON.stringify(expectations),
    command,
    resultJson,
    logJson: logJsonOf(appends, options.logRecord),
    eventCount: events.length,
  };
}

/**
 * The log row as JSON, naming the streams the append writes. An unstorable
 * payload (a NUL character) is the log's loss, not the command's: it is
 * logged without its payload rather than failing the append.
 */
function logJsonOf(
  appends: readonly StreamAppend[],
  record: MessageLogRecord | undefined,
): string | null {
  if (record === undefined) return null;
  const written = appends.filter((a) => a.events.length > 0);
  const streams = written.length > 0 ? written.map((a) => a.streamId) : null;
  const json = JSON.stringify({ ...record, streams });
  return json.includes('\\u0000')
    ? JSON.stringify({ ...record, streams, payload: null, result: null })
    : json;
}

async function run(
  client: SqlClient,
  schema: StoreSchema,
  prepared: Prepared,
  afterOwnWrites: boolean,
  metrics: ChronicleMetrics | undefined,
): Promise<AppendRow[]> {
  // On PGlite a command sent from a consumer joins the consumer's open batch
  // transaction (one session), after the handler's writes. PGlite runs one
  // transaction at a time, so ids commit in the order taken: nothing to protect.
  const exempt = afterOwnWrites || client.joinsOpenTransaction === true;
  const command = prepared.command;
  const start = performance.now();
  const sent = client.query<AppendRow>(
    schema.sql(appendSql),
    [
      prepared.eventsJson,
      prepared.expectationsJson,
      command?.id ?? null,
      command?.type ?? null,
      prepared.resultJson,
      command?.app ?? null,
      exempt,
      prepared.logJson,
    ],
    { prepare: true },
  );
  if (!metrics) return sent;
  try {
    return await sent;
  } finally {
    observeStatement(metrics, start, prepared.eventCount, 1);
  }
}

/** One append statement, timed, with the events and units of work it carried. */
export function observeStatement(
  metrics: ChronicleMetrics,
  start: number,
  events: number,
  units: number,
): void {
  metrics.appendDuration.observe(secondsSince(start));
  metrics.appendEventsPerStatement.observe(events);
  metrics.appendUnitsPerStatement.observe(units);
}

export function lostRace(error: unknown): boolean {
  return isUniqueViolation(error, 'events_stream_version_key');
}

function translate(error: unknown, prepared: Prepared): unknown {
  const commandId = prepared.command?.id;
  if (
    commandId !== undefined &&
    isUniqueViolation(error, 'handled_commands_pkey')
  ) {
    return new CommandAlreadyHandledError(commandId);
  }
  return error;
}

function toResults(prepared: Prepared, rows: AppendRow[]): AppendResult[] {
  const verdict = rows[0];
  if (verdict && !verdict.first_write) {
    throw new AppendNotFirstWriteError(prepared.appends.map((a) => a.streamId));
  }
  const streams = rows.filter((row) => row.stream_id !== null);
  if (verdict && !verdict.ok) {
    const failed = streams.find((row) => !satisfied(row)) ?? streams[0];
    throw new ConcurrencyError(
      failed.stream_id!,
      parseExpected(failed.expected!),
      Number(failed.current_version),
    );
  }
  if (verdict && !verdict.in_order) throw outOfOrder(streams, verdict.xid!);
  return streams.map((row) => ({
    streamId: row.stream_id!,
    nextExpectedVersion: Number(row.last_version ?? row.current_version),
    positions: (row.positions ?? []).map((p) => BigInt(p)),
    transactionId: BigInt(row.transaction_id ?? 0),
  }));
}

/** A stream was written by a transaction newer than this one since it appended. */
function outOfOrder(streams: AppendRow[], xid: string): ConcurrencyError {
  const later =
    streams.find(
      (row) =>
        row.last_transaction_id !== null &&
        BigInt(row.last_transaction_id) > BigInt(xid),
    ) ?? streams[0];
  const version = Number(later.current_version);
  return new ConcurrencyError(
    later.stream_id!,
    parseExpected(later.expected!),
    version,
    `Stream "${later.stream_id}" was written (version ${version}) by a transaction newer than ` +
      'yours; appending to it now would order its versions wrongly in the log. Retry the whole transaction.',
  );
}

function checkExpected(streamId: string, expected: ExpectedVersion): string {
  if (expected === 'any' || expected === 'noStream' || expected === 'exists') {
    return expected;
  }
  if (Number.isInteger(expected) && expected >= 0) {
    return expected === 0 ? 'noStream' : String(expected);
  }
  throw new InvalidAppendError(
    `Expected version of stream "${streamId}" must be 'any', 'noStream', 'exists' or a whole number >= 0, got ${String(expected)}.`,
  );
}

export function parseExpected(expected: string): ExpectedVersion {
  return expected === 'any' || expected === 'noStream' || expected === 'exists'
    ? expected
    : Number(expected);
}

export function satisfied(row: {
  current_version: string | null;
  expected: string | null;
}): boolean {
  const current = Number(row.current_version);
  switch (row.expected) {
    case 'any':
      return true;
    case 'noStream':
      return current === 0;
    case 'exists':
      return current > 0;
    default:
      return current === Number(row.expected);
  }
}

/** The error after losing the race for a stream's next version too many times in a row. */
async function raceExhausted(
  client: SqlClient,
  schema: StoreSchema,
  appends: readonly StreamAppend[],
  violation: unknown,
): Promise<ConcurrencyError> {
  // The violation's detail names the key that was taken: "(stream_id, stream_version)=(s, 5)".
  const detail = String((violation as { detail?: unknown }).detail ?? '');
  const taken = /=\((.*), \d+\)/.exec(detail)?.[1];
  const lost = appends.find((a) => a.streamId === taken) ?? appends[0];
  const streamId = lost?.streamId ?? '';
  const rows = await client.query<{ version: string }>(
    `SELECT coalesce(max(stream_version), 0)::text AS version FROM ${schema.events} WHERE stream_id = $1::text`,
    [streamId],
  );
  const version = Number(rows[0]?.version ?? 0);
  return new ConcurrencyError(
    streamId,
    lost?.expectedVersion ?? 'any',
    version,
    `Stream "${streamId}" lost the race for its next version to other writers ${RACE_ATTEMPTS} times in a row ` +
      `(it is now at version ${version}). Retry the change later, or write to it from fewer places at once.`,
  );
}

/** The types of the events actually written (an idempotent repeat writes none). */
export function appendedTypes(
  appends: readonly StreamAppend[],
  results: readonly AppendResult[],
): Set<string> {
  const types = new Set<string>();
  appends.forEach((append, i) => {
    if ((results[i]?.positions.length ?? 0) === 0) return;
    for (const event of append.events) types.add(event.type);
  });
  return types;
}
