import {
  AggregateRepository,
  aggregateStateOf,
  type AggregateClass,
  type AggregateRoot,
} from '../aggregates/index.js';
import type { StoredEvent } from '../store/index.js';
import { loadAppClasses } from './app-module.loader.js';
import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';

export const SHOW_USAGE = `Usage: chronicle show <aggregate type> <id> [options]

Prints an aggregate's history and its state, now or at a version (time travel).

  --at <version>     the state as it stood at this stream version
  --module <file>    a built JS file exporting the app's aggregate classes, or its
                     Nest module (e.g. dist/app.module.js): needed for the state
  --json             one JSON document instead of text
  --url <url>        PostgreSQL connection string (default: DATABASE_URL)
  --data-dir <dir>   an embedded PGlite store instead (default: CHRONICLE_DATA_DIR,
                     when DATABASE_URL is not set)
  --schema <name>    Chronicle's schema (default: chronicle)

Example: chronicle show orders.Order o-42 --at 17 --module dist/app.module.js`;

const OPTIONS = {
  ...DATABASE_ARGS,
  at: { type: 'string' },
  module: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** `chronicle show <type> <id> [--at N] [--module file]`: returns the exit code. */
export function run(args: string[]): Promise<number> {
  return runCommand(SHOW_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    const [type, id, ...extra] = positionals;
    if (!type || !id || extra.length > 0) {
      throw new UsageError('Give an aggregate type and an id.');
    }
    const at = values.at === undefined ? undefined : Number(values.at);
    if (at !== undefined && (!Number.isInteger(at) || at < 1)) {
      throw new UsageError(
        `--at must be a version from 1 up, got "${values.at}".`,
      );
    }
    const app = values.module ? await loadAppClasses(values.module) : undefined;
    const target = app?.aggregates.get(type);
    if (app && !target) {
      const known = [...app.aggregates.keys()].join(', ') || 'none';
      throw new UsageError(
        `${values.module} declares no aggregate "${type}" (found: ${known}).`,
      );
    }

    const { client, store } = await openStore(values);
    try {
      const streamId = `${type}-${id}`;
      const head = await store.streamVersion(streamId);
      if (head === 0) {
        process.stderr.write(
          `${type} "${id}" does not exist: stream "${streamId}" has no events.\n`,
        );
        return 1;
      }
      const events: StoredEvent[] = [];
      for await (const event of store.readStream(streamId, { toVersion: at })) {
        events.push(event);
      }
      const version =
        events.length > 0 ? events[events.length - 1].streamVersion : 0;
      let state: unknown;
      if (target) {
        const repository = new AggregateRepository(
          target as AggregateClass<AggregateRoot>,
          store,
          undefined,
          { upcaster: app?.upcaster },
        );
        const aggregate = await repository.load(id, { atVersion: at });
        state = aggregateStateOf(aggregate);
      }

      if (values.json) {
        process.stdout.write(
          `${JSON.stringify(
            {
              streamId,
              version,
              head,
              events: events.map((e) => ({
                version: e.streamVersion,
                position: e.position.toString(),
                type: e.type,
                revision: e.revision,
                timestamp: e.timestamp.toISOString(),
                payload: e.payload,
                metadata: e.metadata,
              })),
              ...(target ? { state } : {}),
            },
            null,
            2,
          )}\n`,
        );
        return 0;
      }
      const lines = [
        `${type} ${id}: version ${version} of ${head} (stream ${streamId})`,
        '',
        ...events.map(
          (e) =>
            `  v${e.streamVersion}  ${e.timestamp.toISOString()}  ${e.type} r${e.revision}  ${JSON.stringify(e.payload)}`,
        ),
        '',
        target
          ? `State at version ${version}:\n${JSON.stringify(state, null, 2)}`
          : 'State: pass --module <built file exporting the aggregate or the app module> to rebuild it.',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    } finally {
      await client.close();
    }
  });
}
