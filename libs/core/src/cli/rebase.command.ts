import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';

export const REBASE_USAGE = `Usage: chronicle rebase [options]

Re-bases the store's transaction ids after a move to another PostgreSQL cluster
(pg_dump/pg_restore, PGlite to a server, logical replication), when apps refuse
to start with TRANSACTION_IDS_AHEAD. Keeps the log's order and every consumer's
place in it. Stop every app on this store first.

  --force            re-base even when the ids are not ahead (compacts them)
  --url, --data-dir, --schema   as for every command (default: DATABASE_URL, schema CHRONICLE_SCHEMA or chronicle)`;

const OPTIONS = {
  ...DATABASE_ARGS,
  force: { type: 'boolean', default: false },
} as const;

/** `chronicle rebase [--force]`: returns the exit code. */
export function run(args: string[]): Promise<number> {
  return runCommand(REBASE_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    }
    const { client, store } = await openStore(values);
    try {
      const report = await store.rebaseTransactionIds({ force: values.force });
      process.stdout.write(
        report.rebased
          ? `Re-based ${report.transactions} transactions of schema "${store.schema.name}" ` +
              `(highest id was ${report.storedMaximum}, the counter ${report.counterBefore}). ` +
              'Apps can start again.\n'
          : `Nothing to do: the transaction ids of schema "${store.schema.name}" are below ` +
              `the database's counter (${report.counterBefore}).\n`,
      );
      return 0;
    } finally {
      await client.close();
    }
  });
}
