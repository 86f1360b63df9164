import {
  listProcesses,
  type ProcessInstanceOverview,
} from '../processes/index.js';
import { sqlStateOf } from '../store/index.js';
import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';

export const PROCESSES_USAGE = `Usage: chronicle processes <name> [options]

Lists the instances of the process manager <name> (as in
@ProcessManager('<name>')), most recently changed first: key, status (live
or ended), version (steps handled), open deadlines and state. With --key,
one instance and its history: each event, deadline or failed command it
handled, with the commands it sent. Read from the store alone: no app is
started.

  --key K            only the instance with association key K, with its history
  --limit N          at most N instances (default 100)
  --json             one JSON document instead of the table
  --url, --data-dir, --schema   as for every command (default: DATABASE_URL, schema CHRONICLE_SCHEMA or chronicle)`;

const OPTIONS = {
  ...DATABASE_ARGS,
  key: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** SQLSTATE of a table that does not exist. */
const UNDEFINED_TABLE = '42P01';

const HEADERS = ['key', 'status', 'version', 'deadlines', 'state'] as const;

export function processesTable(
  name: string,
  instances: readonly ProcessInstanceOverview[],
  withHistory: boolean,
): string {
  if (instances.length === 0)
    return `No instance of process manager "${name}" is stored in this schema.`;
  const rows = [
    [...HEADERS],
    ...instances.map((i) => [
      i.key,
      i.status,
      String(i.version),
      i.deadlines.map((d) => `${d.name} at ${d.dueAt}`).join(', ') || '-',
      JSON.stringify(i.state),
    ]),
  ];
  const widths = HEADERS.map((_, col) =>
    Math.max(...rows.map((row) => row[col].length)),
  );
  const lines = rows.map((row) =>
    row
      .map((cell, col) => cell.padEnd(widths[col]))
      .join('  ')
      .trimEnd(),
  );
  if (withHistory) {
    for (const i of instances) {
      lines.push('', `history of ${i.key}:`);
      for (const step of i.history) {
        const sent =
          step.commands.length > 0 ? ` sent ${step.commands.join(', ')}` : '';
        lines.push(
          `  ${step.handledAt.toISOString()}  ${step.messageType} ${step.messageId}` +
            `${step.position === null ? '' : ` at ${step.position}`}${sent}`,
        );
      }
    }
  }
  return lines.join('\n');
}

/** `chronicle processes <name> [--key K] [--json]`: returns the exit code. */
export function run(args: string[]): Promise<number> {
  return runCommand(PROCESSES_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    const [name, extra] = positionals;
    if (!name) throw new UsageError('Which process manager? Name it.');
    if (extra !== undefined)
      throw new UsageError(`Unexpected argument "${extra}".`);
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit takes a whole number, 1 or more.`);
    const { client, store } = await openStore(values);
    try {
      const instances = await listProcesses(client, store.schema, {
        name,
        key: values.key,
        limit,
      }).catch((error: unknown) => {
        if (sqlStateOf(error) !== UNDEFINED_TABLE) throw error;
        throw new UsageError(
          `Schema "${store.schema.name}" has no process instances table: is --schema (or CHRONICLE_SCHEMA) right, and has an app of this version started on it?`,
        );
      });
      process.stdout.write(
        values.json
          ? `${JSON.stringify(instances, null, 2)}\n`
          : `${processesTable(name, instances, values.key !== undefined)}\n`,
      );
      return 0;
    } finally {
      await client.close();
    }
  });
}
