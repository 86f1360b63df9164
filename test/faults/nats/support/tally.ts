import pg from 'pg';
import { DATABASE_URL } from '../../../../libs/core/test/databases.js';
import type { FailureKind, LoadSummary } from './fault-process.js';

/** The figures every fault scenario reports. */
export interface Tally {
  /** Distinct command ids the callers sent (each once or more). */
  readonly attempted: number;
  /** Ids whose send was answered with success. */
  readonly acknowledged: number;
  /** Distinct ids with an EntryRecorded event in the handler's store. */
  readonly stored: number;
  /** Acknowledged ids with no event: an acknowledgement of nothing. */
  readonly lost: number;
  /** Events beyond the first of one id: runs of a command after its first. */
  readonly duplicated: number;
  /** Ids still unacknowledged when the callers stopped. */
  readonly unacknowledged: number;
  /** Stored entries no caller sent (would mean a broken fixture). */
  readonly strays: number;
  /** Answers that were not the result of the command sent. */
  readonly wrongAnswers: number;
  /** Sends after the first, all with the id of the first. */
  readonly resent: number;
  /** Failures seen by the callers, by `ErrorClass/code`. */
  readonly failures: Record<string, FailureKind>;
}

/** How many events each entry (command id) has in the handler's schema. */
function storedEntries(schema: string): Promise<Map<string, number>> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ entry: string; events: string }>(
      `SELECT payload->>'entry' AS entry, count(*) AS events
         FROM "${schema}".events WHERE type = 'faults.EntryRecorded' GROUP BY 1`,
    );
    return new Map(rows.map((r) => [r.entry, Number(r.events)]));
  });
}

/** The log's last position now (0 when empty): a mark to count from. */
export async function lastPosition(schema: string): Promise<string> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ position: string }>(
      `SELECT coalesce(max(position), 0) AS position FROM "${schema}".events`,
    );
    return rows[0].position;
  });
}

/** How many entries each handler instance recorded after `position`. */
export async function handledAfter(
  schema: string,
  position: string,
): Promise<Record<string, number>> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ by: string; events: string }>(
      `SELECT payload->>'handledBy' AS by, count(*) AS events
         FROM "${schema}".events WHERE position > $1::bigint GROUP BY 1`,
      [position],
    );
    return Object.fromEntries(rows.map((r) => [r.by, Number(r.events)]));
  });
}

async function withClient<T>(
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function mergeFailures(
  summaries: readonly LoadSummary[],
): Record<string, FailureKind> {
  const merged: Record<string, FailureKind> = {};
  for (const summary of summaries) {
    for (const [kind, f] of Object.entries(summary.failures)) {
      const seen = merged[kind];
      merged[kind] = seen
        ? {
            count: seen.count + f.count,
            withoutMessageId: seen.withoutMessageId + f.withoutMessageId,
            examples: [...new Set([...seen.examples, ...f.examples])].slice(
              0,
              3,
            ),
          }
        : f;
    }
  }
  return merged;
}

/** Compares what the callers were told with what the store holds. */
export async function tally(
  handlerSchema: string,
  summaries: readonly LoadSummary[],
): Promise<Tally> {
  const stored = await storedEntries(handlerSchema);
  const attempted = new Set(summaries.flatMap((s) => s.attempted));
  const acknowledged = summaries.flatMap((s) => s.acknowledged);
  const count = (ids: Iterable<string>, keep: (id: string) => boolean) =>
    [...ids].filter(keep).length;
  return {
    attempted: attempted.size,
    acknowledged: new Set(acknowledged).size,
    stored: stored.size,
    lost: count(acknowledged, (id) => !stored.has(id)),
    duplicated: [...stored.values()].reduce((sum, n) => sum + n - 1, 0),
    unacknowledged: summaries.reduce((n, s) => n + s.unacknowledged.length, 0),
    strays: count(stored.keys(), (id) => !attempted.has(id)),
    wrongAnswers: summaries.reduce((n, s) => n + s.wrongAnswers.length, 0),
    resent: summaries.reduce((n, s) => n + s.resent, 0),
    failures: mergeFailures(summaries),
  };
}

/** One readable block per scenario, in the test output and CI log. */
export function report(scenario: string, t: Tally): string {
  const failures = Object.entries(t.failures)
    .map(
      ([kind, f]) =>
        `    ${kind} x${f.count} (without messageId: ${f.withoutMessageId}): ` +
        f.examples.join(' | '),
    )
    .join('\n');
  // One `[fault]` line per scenario, as the PostgreSQL half prints, then details.
  const text =
    `[fault] ${scenario}: attempted ${t.attempted} / acknowledged ${t.acknowledged} / ` +
    `stored ${t.stored} / lost ${t.lost} / duplicated ${t.duplicated}\n` +
    `  unacknowledged ${t.unacknowledged}, resent ${t.resent}, strays ${t.strays}, ` +
    `wrong answers ${t.wrongAnswers}\n` +
    (failures ? `  failures seen by the callers:\n${failures}\n` : '');
  process.stdout.write(`${text}\n`);
  return text;
}

/** Drops the schemas the apps of a scenario migrated. */
export function dropSchemas(schemas: readonly string[]): Promise<void> {
  return withClient(async (client) => {
    for (const schema of schemas) {
      await client.query(
        `DROP SCHEMA IF EXISTS "${schema}", "${schema}_projections" CASCADE`,
      );
    }
  });
}

/** How many failures the callers saw with this error code (`TIMEOUT`, `IN_DOUBT`...). */
export function failuresWithCode(t: Tally, code: string): number {
  return Object.entries(t.failures)
    .filter(([kind]) => kind.endsWith(`/${code}`))
    .reduce((n, [, f]) => n + f.count, 0);
}

/** Failure kinds whose errors did not carry the command's id, with how many. */
export function failuresWithoutMessageId(t: Tally): Record<string, number> {
  return Object.fromEntries(
    Object.entries(t.failures)
      .filter(([, f]) => f.withoutMessageId > 0)
      .map(([kind, f]) => [kind, f.withoutMessageId]),
  );
}
