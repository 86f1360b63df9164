import {
  MessageLog,
  type MessageTrace,
  type TraceNode,
} from '../message-log/index.js';
import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';
import { formatMs } from './log.command.js';

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

/** The tree as indented text, one message per line. */
export function traceText(trace: MessageTrace): string {
  const lines = [
    `correlation ${trace.correlationId}: ${trace.messages} messages, ${trace.failures} ${trace.failures === 1 ? 'failure' : 'failures'}${trace.truncated ? ' (truncated: the oldest rows only)' : ''}`,
    '',
  ];
  const walk = (node: TraceNode, prefix: string, branch: string) => {
    lines.push(`${prefix}${branch}${nodeLine(node)}`);
    const childPrefix =
      prefix + (branch === '' ? '' : branch === '└─ ' ? '   ' : '│  ');
    node.children.forEach((child, i) =>
      walk(child, childPrefix, i === node.children.length - 1 ? '└─ ' : '├─ '),
    );
  };
  walk(trace.root, '', '');
  if (trace.detached.length > 0) {
    lines.push('', 'Not caused by anything in the log:');
    for (const part of trace.detached) walk(part, '', '');
  }
  return lines.join('\n');
}

function nodeLine(node: TraceNode): string {
  const offset = `+${formatMs(node.offsetMs)}`;
  if (node.kind === 'event') {
    const consumers = (node.consumers ?? []).map(
      (c) =>
        `${c.consumer} ${c.failed ? '✗' : c.passed ? '✓' : c.stopped ? 'stopped' : '…'}`,
    );
    return [
      `event ${node.type}`,
      `${node.streamId ?? '?'}@${node.position ?? '?'}`,
      node.app ? `[${node.app}]` : undefined,
      offset,
      consumers.length > 0 ? `consumers: ${consumers.join(', ')}` : undefined,
    ]
      .filter((p) => p !== undefined)
      .join('  ');
  }
  const failed = node.kind === 'error' || node.outcome !== 'ok';
  return [
    `${node.kind} ${node.type}`,
    node.id,
    `[${node.app ?? '?'}]`,
    offset,
    node.durationMs === null ? undefined : formatMs(node.durationMs),
    failed ? `✗ ${node.outcome ?? 'failed'}` : 'ok',
    node.error
      ? `${node.error.code ?? node.error.name}: ${node.error.message.split('\n')[0]}`
      : undefined,
    node.consumer ? `(consumer ${node.consumer})` : undefined,
  ]
    .filter((p) => p !== undefined)
    .join('  ');
}
