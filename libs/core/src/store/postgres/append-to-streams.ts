import { ConcurrencyError } from '../concurrency.error.js';
import type {
  AppendOptions,
  AppendResult,
  ExpectedVersion,
  StreamAppend,
} from '../event-store.js';
import {
  CommandAlreadyHandledError,
  InvalidAppendError,
} from '../store.errors.js';

// Each lost race means another writer got in, so this bounds waiting, not progress.
const ANY_VERSION_ATTEMPTS = 100;
import { isUniqueViolation, type SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

/**
 * Appends to any number of streams in ONE statement, so one round trip:
 * - every stream's version is checked against its expectation inside the
 *   database, and nothing is written unless all hold;
 * - the events insert is the transaction's first write, and all streams are
 *   written under one snapshot, so a stream's later version always gets a later
 *   transaction id (which is what lets readers order by transaction id);
 * - the handled command, if any, is recorded in the same statement, so its
 *   result and the events commit together or not at all.
 * A race lost between check and insert surfaces as a unique violation on
 * (stream_id, stream_version) and is reported as the same ConcurrencyError.
 */
const appendSql = (s: StoreSchema) => `
WITH expectation AS (
  SELECT x.stream_id, x.expected,
         coalesce((SELECT e.stream_version FROM ${s.events} e
                   WHERE e.stream_id = x.stream_id
                   ORDER BY e.stream_version DESC LIMIT 1), 0) AS current_version
  FROM jsonb_to_recordset($2::text::jsonb) AS x(stream_id text, expected text)
),
verdict AS (
  SELECT coalesce(bool_and(CASE x.expected
           WHEN 'any' THEN true
           WHEN 'noStream' THEN x.current_version = 0
           WHEN 'exists' THEN x.current_version > 0
           ELSE x.current_version = x.expected::bigint END), true) AS ok
  FROM expectation x
),
appended AS (
  INSERT INTO ${s.events}
    (id, stream_id, stream_version, type, revision, payload, metadata, created_at)
  SELECT (j.e->>'id')::uuid, x.stream_id,
         x.current_version + row_number() OVER (PARTITION BY x.stream_id ORDER BY j.ord),
         j.e->>'type', (j.e->>'revision')::integer, j.e->'payload', j.e->'metadata',
         (j.e->>'timestamp')::timestamptz
  FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS j(e, ord)
  JOIN expectation x ON x.stream_id = j.e->>'streamId'
  WHERE (SELECT ok FROM verdict)
  ORDER BY j.ord
  RETURNING position, stream_id, stream_version, transaction_id
),
handled AS (
  INSERT INTO ${s.handledCommands} (command_id, command_type, result, app)
  SELECT $3::text, $4::text, $5::text::json, $6::text
  WHERE $3::text IS NOT NULL AND (SELECT ok FROM verdict)
  RETURNING command_id
)
SELECT x.stream_id, x.expected, x.current_version::text AS current_version,
       (SELECT ok FROM verdict) AS ok,
       (SELECT count(*) FROM handled)::int AS handled,
       a.positions, a.last_version::text AS last_version, a.transaction_id
FROM expectation x
LEFT JOIN (
  SELECT stream_id, max(stream_version) AS last_version,
         array_agg(position::text ORDER BY stream_version) AS positions,
         max(transaction_id::text) AS transaction_id
  FROM appended GROUP BY stream_id
) a ON a.stream_id = x.stream_id`;

interface AppendRow {
  stream_id: string;
  expected: string;
  current_version: string;
  ok: boolean;
  handled: number;
  positions: string[] | null;
  last_version: string | null;
  transaction_id: string | null;
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

function parseExpected(expected: string): ExpectedVersion {
  return expected === 'any' || expected === 'noStream' || expected === 'exists'
    ? expected
    : Number(expected);
}

export async function appendToStreams(
  client: SqlClient,
  schema: StoreSchema,
  appends: readonly StreamAppend[],
  options: AppendOptions = {},
  attempt = 1,
): Promise<AppendResult[]> {
  const seen = new Set<string>();
  const expectations: { stream_id: string; expected: string }[] = [];
  const events: Record<string, unknown>[] = [];
  for (const append of appends) {
    if (typeof append.streamId !== 'string' || append.streamId.length === 0) {
      throw new InvalidAppendError('A stream id must be a non-empty string.');
    }
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
      events.push({ ...event, streamId: append.streamId });
    }
  }
  const command = options.handledCommand;
  let rows: AppendRow[];
  try {
    rows = await client.query<AppendRow>(
      schema.sql(appendSql),
      [
        JSON.stringify(events),
        JSON.stringify(expectations),
        command?.id ?? null,
        command?.type ?? null,
        command ? JSON.stringify({ value: command.result ?? null }) : null,
        command?.app ?? null,
      ],
      { prepare: true },
    );
  } catch (error) {
    if (isUniqueViolation(error, 'events_stream_version_key')) {
      // Writers that expected 'any' do not care who went first: try again,
      // unless a caller's transaction is now aborted and cannot go on.
      const anyVersion = appends.every((a) => a.expectedVersion === 'any');
      if (
        anyVersion &&
        !client.inTransaction &&
        attempt < ANY_VERSION_ATTEMPTS
      ) {
        return appendToStreams(client, schema, appends, options, attempt + 1);
      }
      throw await conflictAfterRace(client, schema, appends, error);
    }
    if (command && isUniqueViolation(error, 'handled_commands_pkey')) {
      throw new CommandAlreadyHandledError(command.id);
    }
    throw error;
  }
  if (rows.length > 0 && !rows[0].ok) {
    const failed = rows.find((row) => !satisfied(row)) ?? rows[0];
    throw new ConcurrencyError(
      failed.stream_id,
      parseExpected(failed.expected),
      Number(failed.current_version),
    );
  }
  return rows.map((row) => ({
    streamId: row.stream_id,
    nextExpectedVersion: Number(row.last_version ?? row.current_version),
    positions: (row.positions ?? []).map((p) => BigInt(p)),
    transactionId: BigInt(row.transaction_id ?? 0),
  }));
}

function satisfied(row: AppendRow): boolean {
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

/** Builds the conflict error for the stream that lost a race, with its version now. */
async function conflictAfterRace(
  client: SqlClient,
  schema: StoreSchema,
  appends: readonly StreamAppend[],
  violation: unknown,
): Promise<ConcurrencyError> {
  if (client.inTransaction) {
    // The caller's transaction is aborted and cannot be asked; the violation's
    // detail names the key that was taken: "(stream_id, stream_version)=(s, 5)".
    const detail = String((violation as { detail?: unknown }).detail ?? '');
    const taken = /=\((.*), (\d+)\)/.exec(detail);
    const lost = appends.find((a) => a.streamId === taken?.[1]) ?? appends[0];
    return new ConcurrencyError(
      lost.streamId,
      lost.expectedVersion,
      taken ? Number(taken[2]) : NaN,
    );
  }
  const versions = await client.query<{ stream_id: string; version: string }>(
    `SELECT s.stream_id, coalesce(max(e.stream_version), 0)::text AS version
     FROM jsonb_array_elements_text($1::text::jsonb) AS s(stream_id)
     LEFT JOIN ${schema.events} e ON e.stream_id = s.stream_id
     GROUP BY s.stream_id`,
    [JSON.stringify(appends.map((a) => a.streamId))],
  );
  const byStream = new Map(
    versions.map((v) => [v.stream_id, Number(v.version)]),
  );
  const lost =
    appends.find((a) => {
      const actual = byStream.get(a.streamId) ?? 0;
      return a.expectedVersion === 'any' || actual !== a.expectedVersion;
    }) ?? appends[0];
  return new ConcurrencyError(
    lost.streamId,
    lost.expectedVersion,
    byStream.get(lost.streamId) ?? 0,
  );
}
