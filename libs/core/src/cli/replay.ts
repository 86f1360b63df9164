import { parseArgs } from 'node:util';
import { PgSqlClient, PostgresEventStore } from '../store/index.js';
import {
  followReplay,
  requestReplay,
  type ResetTarget,
} from '../tracking/index.js';
import type { CliCommand } from './main.js';
import { finishedLine, ProgressWriter } from './progress-bar.js';

const USAGE = `Usage: chronicle replay <consumer> [--from beginning|<date>|<position>] [--detach] [--interval 1000] [--schema chronicle]

Asks the running instances of <consumer> to replay it: its @OnReset hooks run
and its positions rewind in one transaction, then it handles the events again.
If no instance runs now, the next one to start does it. Then shows how far the
replay has come until it reaches the head of the log as it was when applied:
a progress bar on a terminal, a line per change otherwise (events of the log
read through, rate, time left). Ctrl-C stops watching, not the replay.

  --from       'beginning' (default), a date (2026-01-01, or an ISO time): the
               events stored since then; or a position: the events after it.
  --detach     only ask for the replay; do not wait for it.
  --interval   milliseconds between looks at the progress (default 1000).
  --schema     Chronicle's PostgreSQL schema (default: CHRONICLE_SCHEMA, else chronicle).

Connects to DATABASE_URL.`;

/** `--from` as a reset target. */
export function parseFrom(from: string): ResetTarget {
  if (from === 'beginning') return 'beginning';
  if (/^\d+$/.test(from)) return BigInt(from);
  const date = new Date(from);
  if (Number.isNaN(date.getTime())) {
    throw new Error(
      `--from "${from}" is neither 'beginning', a date (2026-01-01) nor a position (a whole number).`,
    );
  }
  return date;
}

function describeFrom(to: ResetTarget): string {
  if (to === 'beginning') return 'the beginning';
  if (to instanceof Date) return to.toISOString();
  return `after position ${to}`;
}

export const replayCommand: CliCommand = {
  summary: 'replay a consumer from the beginning, a date or a position',
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        from: { type: 'string', default: 'beginning' },
        detach: { type: 'boolean', default: false },
        interval: { type: 'string', default: '1000' },
        schema: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      console.error(USAGE);
      return 2;
    }
    const url = process.env.DATABASE_URL;
    if (!url) {
      console.error(
        'DATABASE_URL is not set: point it at the PostgreSQL database of the app.',
      );
      return 2;
    }
    const [consumer] = positionals;
    const to = parseFrom(values.from);
    const intervalMs = Number(values.interval);
    if (!Number.isInteger(intervalMs) || intervalMs < 10) {
      console.error(
        `--interval must be a whole number of milliseconds, 10 or more; got "${values.interval}".`,
      );
      return 2;
    }
    const client = PgSqlClient.connect(url, { max: 1 });
    try {
      const store = new PostgresEventStore(
        client,
        values.schema ?? process.env.CHRONICLE_SCHEMA ?? 'chronicle',
      );
      await requestReplay(store, consumer, { to });
      console.log(
        `Replay of "${consumer}" requested, from ${describeFrom(to)} ` +
          '(applied by a running instance within a lease renewal, or by the next one to start; ' +
          'events still being written when it applies are replayed too).',
      );
      if (values.detach) return 0;
      const writer = new ProgressWriter(process.stdout);
      const last = await followReplay(store, consumer, to, {
        intervalMs,
        onWaiting: () =>
          console.log(
            `Waiting for an instance of "${consumer}" to apply it (Ctrl-C stops watching; the request stays).`,
          ),
        onProgress: (progress) => writer.show(progress),
      });
      if (last.stopped) {
        console.error(
          `A segment of "${consumer}" is stopped on a failing event: the replay cannot finish. ` +
            "See `npx chronicle consumers` and the consumer's health for the error.",
        );
        return 1;
      }
      console.log(finishedLine(last));
      return 0;
    } finally {
      await client.close();
    }
  },
};
