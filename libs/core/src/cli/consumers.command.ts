import { sqlStateOf } from '../store/index.js';
import { consumersOverview, type ConsumerOverview } from '../tracking/index.js';
import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';

export const CONSUMERS_USAGE = `Usage: chronicle consumers [options]

Lists every consumer with stored positions, a line per segment: the instance
that holds it, its position, how far it is behind the head (events of the log
in its segment, any type, and the age of the oldest), whether it is running,
unclaimed or stopped, the consumer's dead letters (skip policy) and the
streams it holds parked (park policy). Read from the store
alone: no app is started.

  --json             one JSON document instead of the table
  --url, --data-dir, --schema   as for every command (default: DATABASE_URL, schema CHRONICLE_SCHEMA or chronicle)`;

const OPTIONS = {
  ...DATABASE_ARGS,
  json: { type: 'boolean', default: false },
} as const;

const HEADERS = [
  'consumer',
  'segment',
  'owner',
  'position',
  'lag',
  'lag s',
  'status',
  'dead letters',
  'parked',
] as const;
/** SQLSTATE of a table that does not exist. */
const UNDEFINED_TABLE = '42P01';

/** Numbers read best aligned right. */
const RIGHT = new Set([
  'segment',
  'position',
  'lag',
  'lag s',
  'dead letters',
  'parked',
]);

/** The table's rows: the consumer's name, dead letters and parked streams on its first segment only. */
function tableRows(consumers: readonly ConsumerOverview[]): string[][] {
  return consumers.flatMap((c) =>
    c.segments.map((s, i) => [
      i === 0 ? c.consumer : '',
      String(s.segment),
      s.owner ?? '-',
      String(s.checkpoint.position),
      String(s.lagEvents),
      s.lagSeconds.toFixed(1),
      s.status,
      i === 0 ? String(c.deadLetters) : '',
      i === 0 ? String(c.parkedStreams) : '',
    ]),
  );
}

export function consumersTable(consumers: readonly ConsumerOverview[]): string {
  if (consumers.length === 0)
    return 'No consumer has stored positions in this schema yet.';
  const rows = [[...HEADERS], ...tableRows(consumers)];
  const widths = HEADERS.map((_, col) =>
    Math.max(...rows.map((row) => row[col].length)),
  );
  const lines = rows.map((row) =>
    row
      .map((cell, col) =>
        RIGHT.has(HEADERS[col])
          ? cell.padStart(widths[col])
          : cell.padEnd(widths[col]),
      )
      .join('  ')
      .trimEnd(),
  );
  // What needs a person: stopped segments with their error, replays not yet applied.
  for (const c of consumers) {
    for (const s of c.segments) {
      if (s.status === 'stopped') {
        lines.push(
          `${c.consumer} segment ${s.segment} is stopped: ${s.lastError ?? 'no error recorded'}`,
        );
      }
    }
    if (c.replayPending)
      lines.push(`${c.consumer}: a replay waits for a running instance`);
  }
  return lines.join('\n');
}

/** `chronicle consumers [--json]`: returns the exit code. */
export function run(args: string[]): Promise<number> {
  return runCommand(CONSUMERS_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    }
    const { client, store } = await openStore(values);
    try {
      const consumers = await consumersOverview(client, store.schema).catch(
        (error: unknown) => {
          if (sqlStateOf(error) !== UNDEFINED_TABLE) throw error;
          throw new UsageError(
            `Schema "${store.schema.name}" has no Chronicle tables: is --schema (or CHRONICLE_SCHEMA) right?`,
          );
        },
      );
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify(
            consumers,
            (_, value: unknown) =>
              typeof value === 'bigint' ? value.toString() : value,
            2,
          )}\n`,
        );
        return 0;
      }
      process.stdout.write(`${consumersTable(consumers)}\n`);
      return 0;
    } finally {
      await client.close();
    }
  });
}
