import { sqlStateOf } from '../store/index.js';
import {
  consumersOverview,
  rebuildsOverview,
  type ConsumerOverview,
  type RebuildOverview,
} from '../tracking/index.js';
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
streams it holds parked (park policy). A consumer version being rebuilt
beside the live one (blue-green) shows as building, with its progress.
Read from the store alone: no app is started.

  --json             one JSON document instead of the table
  --watch            draw again every --interval until no rebuild is under way
                     (a bar redrawn in place on a terminal, plain lines
                     otherwise); exits 0 when every rebuild is done
  --interval MS      how often --watch looks (default 1000)
  --url, --data-dir, --schema   as for every command (default: DATABASE_URL, schema CHRONICLE_SCHEMA or chronicle)`;

const OPTIONS = {
  ...DATABASE_ARGS,
  json: { type: 'boolean', default: false },
  watch: { type: 'boolean', default: false },
  interval: { type: 'string' },
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
      c.version?.status === 'building' ? `building` : s.status,
      i === 0 ? String(c.deadLetters) : '',
      i === 0 ? String(c.parkedStreams) : '',
    ]),
  );
}

export function consumersTable(
  consumers: readonly ConsumerOverview[],
  rebuilds: readonly RebuildOverview[] = [],
): string {
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
  for (const r of rebuilds) lines.push(rebuildLine(r));
  return lines.join('\n');
}

const BAR_WIDTH = 30;

/** `stock v2 rebuilding beside the live version: [#####.....]  50% 1000/2000 events` */
export function rebuildLine(r: RebuildOverview): string {
  const share = r.total === 0 ? 1 : Math.min(1, r.done / r.total);
  const filled = Math.round(share * BAR_WIDTH);
  const bar = '#'.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
  return (
    `${r.consumer} v${r.version} rebuilding beside the live version: ` +
    `[${bar}] ${String(Math.floor(share * 100)).padStart(3)}% ${r.done}/${r.total} events`
  );
}

/** Reads the overview, naming a schema without Chronicle's tables as the mistake. */
async function overview(
  client: Parameters<typeof consumersOverview>[0],
  schema: Parameters<typeof consumersOverview>[1],
): Promise<ConsumerOverview[]> {
  return consumersOverview(client, schema).catch((error: unknown) => {
    if (sqlStateOf(error) !== UNDEFINED_TABLE) throw error;
    throw new UsageError(
      `Schema "${schema.name}" has no Chronicle tables: is --schema (or CHRONICLE_SCHEMA) right?`,
    );
  });
}

function intervalOf(value: string | undefined): number {
  if (value === undefined) return 1000;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 50)
    throw new UsageError(
      `--interval must be a whole number of ms, at least 50; got "${value}".`,
    );
  return ms;
}

/** `chronicle consumers [--json]`: returns the exit code. */
export function run(args: string[]): Promise<number> {
  return runCommand(CONSUMERS_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    }
    const interval = intervalOf(values.interval);
    const { client, store } = await openStore(values);
    try {
      const consumers = await overview(client, store.schema);
      if (values.json) {
        const rebuilds = await rebuildsOverview(
          client,
          store.schema,
          consumers,
        );
        process.stdout.write(
          `${JSON.stringify(
            { consumers, rebuilds },
            (_, value: unknown) =>
              typeof value === 'bigint' ? value.toString() : value,
            2,
          )}\n`,
        );
        return 0;
      }
      let current = consumers;
      let last = '';
      for (;;) {
        const rebuilds = await rebuildsOverview(client, store.schema, current);
        const text = consumersTable(current, rebuilds);
        if (process.stdout.isTTY && values.watch) {
          // Redrawn in place: the cursor home, the screen cleared below it.
          process.stdout.write(`\x1b[H\x1b[J${text}\n`);
        } else if (text !== last) {
          process.stdout.write(`${last === '' ? '' : '\n'}${text}\n`);
        }
        last = text;
        if (!values.watch || rebuilds.length === 0) return 0;
        await new Promise((resolve) => setTimeout(resolve, interval));
        current = await overview(client, store.schema);
      }
    } finally {
      await client.close();
    }
  });
}
