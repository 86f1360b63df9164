import {
  MessageLog,
  MessageLogSearchError,
  type JsonValue,
  type LoggedMessage,
  type MessageLogFilter,
  formatMs,
} from '../message-log/index.js';
import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';
import { instantArg } from './instant-arg.js';

export const LOG_USAGE = `Usage: chronicle log [options]

Lists the message log (commands, schedule deliveries, errors, queries), newest first,
one row per line, then the cursor of the next page.

  --type <name>         this message type (e.g. orders.PlaceOrder); repeat for several
  --kind <kind>         command, schedule, error or query; repeat for several
  --app <name>          handled by this app; repeat for several
  --outcome <outcome>   ok, rejected or failed
  --failed              only rows whose outcome is not ok
  --since <when>        logged at or after: a duration back from now (30s, 15m, 1h, 2d)
                        or an ISO date (2026-12-01, 2026-12-01T10:00:00Z)
  --until <when>        logged before (same forms)
  --correlation <id>    of this conversation
  --stream <id>         commands that appended to this stream (e.g. orders.Order-o-42)
  --where <field=value> payload field equals value (JSON if it parses: total=5 is a number;
                        a.b=x is a nested field); repeat for several
  --limit <n>           rows per page, 1 to 1000 (default 50)
  --after <cursor>      the page after the one that printed this cursor
  --json                one JSON document ({ rows, next }) instead of text
  --help                this text
  --url, --data-dir, --schema   as for every command (default: DATABASE_URL, schema CHRONICLE_SCHEMA or chronicle)`;

const OPTIONS = {
  ...DATABASE_ARGS,
  type: { type: 'string', multiple: true },
  kind: { type: 'string', multiple: true },
  app: { type: 'string', multiple: true },
  outcome: { type: 'string', multiple: true },
  failed: { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  correlation: { type: 'string' },
  stream: { type: 'string' },
  where: { type: 'string', multiple: true },
  limit: { type: 'string', default: '50' },
  after: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `chronicle log [filters]`: returns the exit code. */
export function run(args: string[], now = () => new Date()): Promise<number> {
  return runCommand(LOG_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (values.help) {
      process.stdout.write(`${LOG_USAGE}\n`);
      return 0;
    }
    if (positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    }
    const limit = Number(values.limit);
    if (!/^\d+$/.test(values.limit)) {
      throw new UsageError(
        `--limit: must be a whole number from 1 to 1000, got "${values.limit}".`,
      );
    }
    const filter: MessageLogFilter = {
      ...(values.type && { type: values.type }),
      ...(values.kind && { kind: values.kind as MessageLogFilter['kind'] }),
      ...(values.app && { app: values.app }),
      ...(values.outcome && {
        outcome: values.outcome as MessageLogFilter['outcome'],
      }),
      ...(values.failed && { failed: true }),
      ...(values.since && {
        since: instantArg(values.since, '--since', now()),
      }),
      ...(values.until && {
        until: instantArg(values.until, '--until', now()),
      }),
      ...(values.correlation && { correlationId: values.correlation }),
      ...(values.stream && { stream: values.stream }),
      ...(values.where && { where: whereOf(values.where) }),
    };
    const { client, store } = await openStore(values);
    try {
      const log = new MessageLog(client, store.schema);
      const page = await log
        .search(filter, {
          limit,
          after: values.after,
        })
        .catch((error: unknown) => {
          // A filter the log refuses is a usage mistake: name the option.
          if (error instanceof MessageLogSearchError) {
            throw new UsageError(
              `--${OPTION_OF[error.field] ?? error.field}: ${error.message.slice(error.field.length + 2)}`,
            );
          }
          throw error;
        });
      if (values.json) {
        process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        return 0;
      }
      const lines = page.rows.map(lineOf);
      if (lines.length === 0) lines.push('(no rows)');
      if (page.next) lines.push(`next: --after ${page.next}`);
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    } finally {
      await client.close();
    }
  });
}

/** The command-line option of each filter field, for error messages. */
const OPTION_OF: Record<string, string> = {
  correlationId: 'correlation',
};

/** `a.b=1` as `{ a: { b: 1 } }`: the value as JSON when it parses, else as text. */
function whereOf(pairs: readonly string[]): Record<string, JsonValue> {
  const where: Record<string, JsonValue> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(
        `--where "${pair}": give field=value, e.g. --where customerId=c-1.`,
      );
    }
    const path = pair.slice(0, eq).split('.');
    if (path.some((p) => p === '')) {
      throw new UsageError(`--where "${pair}": a field name is empty.`);
    }
    let target = where;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      if (
        next === undefined ||
        next === null ||
        typeof next !== 'object' ||
        Array.isArray(next)
      ) {
        target[key] = {};
      }
      target = target[key] as Record<string, JsonValue>;
    }
    target[path[path.length - 1]] = valueOf(pair.slice(eq + 1));
  }
  return where;
}

function valueOf(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** One row: when, kind, type, outcome, app, duration, id, correlation, and the error if any. */
function lineOf(row: LoggedMessage): string {
  const mark = row.outcome === 'ok' ? 'ok' : `✗ ${row.outcome}`;
  const parts = [
    row.loggedAt,
    row.kind.padEnd(8),
    row.type,
    mark,
    row.app ?? '-',
    row.durationMs === null ? '-' : `${formatMs(row.durationMs)}`,
    row.id,
  ];
  if (row.correlationId && row.correlationId !== row.id)
    parts.push(`correlation ${row.correlationId}`);
  if (row.error) {
    parts.push(
      `${row.error.code ?? row.error.name}: ${row.error.message.split('\n')[0]}`,
    );
  }
  return parts.join('  ');
}
