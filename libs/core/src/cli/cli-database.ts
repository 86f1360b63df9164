import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  MasterKey,
  PersonalDataCipher,
  PostgresKeyStore,
} from '../security/personal-data/index.js';
import {
  openSqlClient,
  PostgresEventStore,
  StoreSchema,
  type SqlClient,
} from '../store/index.js';

/** The options every maintenance command takes to reach the store. */
export const DATABASE_ARGS = {
  url: { type: 'string' },
  'data-dir': { type: 'string' },
  schema: { type: 'string' },
} satisfies ParseArgsConfig['options'];

/** A usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** Parses a command's arguments, turning parseArgs's errors into usage errors. */
export function parseCommandArgs<
  O extends NonNullable<ParseArgsConfig['options']>,
>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(
      error instanceof Error ? error.message : String(error),
    );
  }
}

/**
 * The store the command inspects: `--url`, else an embedded PGlite
 * `--data-dir`, else `DATABASE_URL`, else `CHRONICLE_DATA_DIR` (what the
 * command line names wins over the environment, as in an app). Its schema:
 * `--schema`, else `CHRONICLE_SCHEMA`, else `chronicle`, as the apps choose
 * it. It is never migrated from here: a maintenance command only reads.
 * Personal data fields read decrypted, or as their placeholder once forgotten.
 */
export async function openStore(values: {
  url?: string;
  'data-dir'?: string;
  schema?: string;
}): Promise<{ client: SqlClient; store: PostgresEventStore }> {
  const dataDir =
    values['data-dir'] ??
    (values.url || process.env.DATABASE_URL
      ? undefined
      : process.env.CHRONICLE_DATA_DIR || undefined);
  const url = values.url ?? (dataDir ? undefined : process.env.DATABASE_URL);
  if (!url && !dataDir) {
    throw new UsageError(
      'Which database? Set DATABASE_URL, or pass --url postgres://... or --data-dir <PGlite folder>.',
    );
  }
  const client = await openSqlClient(url ? { url, poolSize: 2 } : { dataDir });
  const schema = values.schema ?? process.env.CHRONICLE_SCHEMA ?? 'chronicle';
  // Personal fields read as the apps read them: opened with the store's own
  // keys (wrapped with CHRONICLE_MASTER_KEY when the apps use one), the
  // placeholder once forgotten.
  const cipher = new PersonalDataCipher(
    new PostgresKeyStore(client, new StoreSchema(schema)),
    MasterKey.from(process.env.CHRONICLE_MASTER_KEY),
  );
  return {
    client,
    store: new PostgresEventStore(client, schema, undefined, { cipher }),
  };
}

/** Runs a command body, mapping errors to exit codes: 2 for usage, 1 for the rest. */
export async function runCommand(
  usage: string,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${usage}\n`);
      return 2;
    }
    process.stderr.write(
      `${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}
