import type { StoreSchema } from '../store/index.js';
import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';

export const STREAMS_USAGE = `Usage: chronicle streams [options]

Lists the event streams with their version and last write, by stream id.

  --type <name>      only streams of this aggregate type (e.g. orders.Order)
  --limit <n>        at most n streams (default 100)
  --after <id>       streams after this stream id (the next page)
  --json             one JSON document instead of text
  --url, --data-dir, --schema   as for every command (default: DATABASE_URL, schema CHRONICLE_SCHEMA or chronicle)`;

const OPTIONS = {
  ...DATABASE_ARGS,
  type: { type: 'string' },
  limit: { type: 'string', default: '100' },
  after: { type: 'string', default: '' },
  json: { type: 'boolean', default: false },
} as const;

// A maintenance query: it groups the whole events table (or one type's part of it).
const streamsSql = (s: StoreSchema) => `
  SELECT stream_id, max(stream_version)::text AS version, max(created_at) AS last_write
  FROM ${s.events}
  WHERE stream_id > $1::text
    AND ($2::text IS NULL OR starts_with(stream_id, $2::text || '-'))
  GROUP BY stream_id ORDER BY stream_id LIMIT $3::int`;

/** `chronicle streams [--type T] [--limit N] [--after ID]`: returns the exit code. */
export function run(args: string[]): Promise<number> {
  return runCommand(STREAMS_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    }
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      throw new UsageError(
        `--limit must be a whole number from 1 up, got "${values.limit}".`,
      );
    }
    const { client, store } = await openStore(values);
    try {
      const rows = await client.query<{
        stream_id: string;
        version: string;
        last_write: Date | string;
      }>(store.schema.sql(streamsSql), [
        values.after,
        values.type ?? null,
        limit,
      ]);
      const streams = rows.map((r) => ({
        streamId: r.stream_id,
        version: Number(r.version),
        lastWrite: new Date(r.last_write).toISOString(),
      }));
      if (values.json) {
        process.stdout.write(`${JSON.stringify(streams, null, 2)}\n`);
        return 0;
      }
      const width = Math.max(6, ...streams.map((s) => s.streamId.length));
      const lines = [
        `${'stream'.padEnd(width)}  ${'version'.padStart(8)}  last write`,
        ...streams.map(
          (s) =>
            `${s.streamId.padEnd(width)}  ${String(s.version).padStart(8)}  ${s.lastWrite}`,
        ),
      ];
      if (streams.length === limit) {
        lines.push(
          `(more after "${streams[streams.length - 1].streamId}": --after)`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    } finally {
      await client.close();
    }
  });
}
