import { hostname, userInfo } from 'node:os';
import {
  dropParked,
  listDeadLetters,
  retryParked,
  type DeadLetterList,
  type RetryOutcome,
} from '../tracking/index.js';
import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';

export const DEAD_LETTERS_USAGE = `Usage: chronicle dead-letters list|retry|drop <consumer> [options]

A consumer's dead letters: the streams it parked (onError 'park': an event failed
every retry, and it and every later event of its stream wait, in order) and the
events it skipped (onError 'skip').

  list    the parked streams (first parked event, events waiting, last error,
          attempts, since when) and the skipped events
  retry   asks the instance that owns each parked stream's segment to apply its
          events again, in order, and waits for the outcome; one that fails again
          stays parked with the new error. Exit code 1 unless every stream applied.
  drop    deletes the parked events of the stream(s): they are never handled,
          and the stream's next events are handled again

  --stream <id>     only this stream (retry and drop: else every parked stream)
  --timeout <s>     retry: how long to wait for the owners (default 30)
  --json            one JSON document instead of text
  --help            this text
  --url, --data-dir, --schema   as for every command (default: DATABASE_URL, schema CHRONICLE_SCHEMA or chronicle)`;

const OPTIONS = {
  ...DATABASE_ARGS,
  stream: { type: 'string' },
  timeout: { type: 'string', default: '30' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const ACTIONS = ['list', 'retry', 'drop'] as const;
type Action = (typeof ACTIONS)[number];

/** `chronicle dead-letters list|retry|drop <consumer> [--stream ID]`: returns the exit code. */
export function run(args: string[]): Promise<number> {
  return runCommand(DEAD_LETTERS_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (values.help) {
      process.stdout.write(`${DEAD_LETTERS_USAGE}\n`);
      return 0;
    }
    const [action, consumer, ...rest] = positionals;
    if (!ACTIONS.includes(action as Action))
      throw new UsageError(
        action
          ? `Unknown action "${action}": list, retry or drop.`
          : 'Which action? list, retry or drop.',
      );
    if (!consumer) throw new UsageError('Which consumer?');
    if (rest.length > 0)
      throw new UsageError(`Unexpected argument "${rest[0]}".`);
    const timeout = Number(values.timeout);
    if (!/^\d+(\.\d+)?$/.test(values.timeout) || timeout <= 0)
      throw new UsageError(
        `--timeout: seconds, a number above 0, got "${values.timeout}".`,
      );
    const { client, store } = await openStore(values);
    const query = values.stream === undefined ? {} : { stream: values.stream };
    try {
      switch (action as Action) {
        case 'list': {
          const list = await listDeadLetters(store, consumer, query);
          print(values.json, list, () => describeList(list));
          return 0;
        }
        case 'retry': {
          const outcomes = await retryParked(store, consumer, {
            ...query,
            timeoutMs: timeout * 1000,
          });
          print(values.json, outcomes, () => describeRetry(consumer, outcomes));
          return outcomes.every((o) => o.status === 'applied') ? 0 : 1;
        }
        case 'drop': {
          const by = `${userInfo().username}@${hostname()} (chronicle dead-letters)`;
          const at = new Date();
          const dropped = await dropParked(store, consumer, { ...query, by });
          print(values.json, { dropped, by, at: at.toISOString() }, () =>
            dropped.length === 0
              ? `Consumer "${consumer}" has no parked stream.`
              : dropped
                  .map(
                    (d) =>
                      `Dropped ${d.events} parked event${d.events === 1 ? '' : 's'} of stream ${d.stream} ` +
                      `(consumer "${consumer}", by ${by}, at ${at.toISOString()}).`,
                  )
                  .join('\n'),
          );
          return 0;
        }
      }
    } finally {
      await client.close();
    }
  });
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(
    `${json ? JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) : text()}\n`,
  );
}

function describeList(list: DeadLetterList): string {
  const lines: string[] = [];
  if (list.parked.length === 0)
    lines.push(`Consumer "${list.consumer}" has no parked stream.`);
  else {
    lines.push(`Parked streams of "${list.consumer}": ${list.parked.length}`);
    for (const p of list.parked) {
      lines.push(
        `  ${p.stream}: ${p.events} event${p.events === 1 ? '' : 's'} waiting from ` +
          `${p.firstEvent.type} v${p.firstEvent.streamVersion} (position ${p.firstEvent.position}), ` +
          `${p.attempts} attempt${p.attempts === 1 ? '' : 's'}, parked since ${p.parkedAt.toISOString()}` +
          (p.retryRequestedAt ? ', retry requested' : ''),
        `    last error (${p.failedAt.toISOString()}): ${p.error}`,
      );
    }
  }
  if (list.skipped.length > 0) {
    lines.push(`Skipped events of "${list.consumer}": ${list.skipped.length}`);
    for (const s of list.skipped) {
      lines.push(
        `  ${s.stream}: ${s.event.type} at position ${s.event.position} (${s.event.id}), ` +
          `${s.attempts} attempts, ${s.failedAt.toISOString()}: ${s.error}`,
      );
    }
  }
  return lines.join('\n');
}

function describeRetry(
  consumer: string,
  outcomes: readonly RetryOutcome[],
): string {
  if (outcomes.length === 0)
    return `Consumer "${consumer}" has no parked stream.`;
  return outcomes
    .map((o) => {
      switch (o.status) {
        case 'applied':
          return `${o.stream}: applied ${o.applied} parked event${o.applied === 1 ? '' : 's'}; the stream flows again.`;
        case 'failed':
          return (
            `${o.stream}: failed again after applying ${o.applied}; ${o.remaining} stay parked ` +
            `(attempts ${o.attempts ?? '?'}): ${o.error ?? 'unknown error'}`
          );
        default:
          return (
            `${o.stream}: no answer in time (${o.applied} applied, ${o.remaining} parked); ` +
            'the request stays, and the instance that owns the stream runs it when it can.'
          );
      }
    })
    .join('\n');
}
