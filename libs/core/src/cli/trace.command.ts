import { MessageLog, traceText } from '../message-log/index.js';
import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';

export const TRACE_USAGE = `Usage: chronicle trace <id> [options]

Prints the conversation a message belongs to as a tree of what caused what: the command,
the events it appended, the consumers that passed each event, the commands, schedules
and errors they caused, and so on. <id> is any message id, event id or correlation id.
Each line: kind, type, id, [app], +time since the first message, duration, outcome;
failures are marked ✗.

  --help    this text
  --json    the tree as JSON (the MessageTrace type) instead of text
  --url, --data-dir, --schema   as for every command (default: DATABASE_URL, schema CHRONICLE_SCHEMA or chronicle)`;

const OPTIONS = {
  ...DATABASE_ARGS,
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `chronicle trace <id>`: returns the exit code (1 when nothing has that id). */
export function run(args: string[]): Promise<number> {
  return runCommand(TRACE_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (values.help) {
      process.stdout.write(`${TRACE_USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? 'Which message? Give a message id, event id or correlation id.'
          : `Unexpected argument "${positionals[1]}".`,
      );
    }
    const [id] = positionals;
    const { client, store } = await openStore(values);
    try {
      const trace = await new MessageLog(client, store.schema).trace(id);
      if (!trace) {
        process.stderr.write(
          `Nothing in the message log or the event store has the id "${id}".\n`,
        );
        return 1;
      }
      process.stdout.write(
        values.json
          ? `${JSON.stringify(trace, null, 2)}\n`
          : `${traceText(trace)}\n`,
      );
      return 0;
    } finally {
      await client.close();
    }
  });
}
