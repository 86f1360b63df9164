import {
  checkSchemaName,
  sqlStateOf,
  StoreConfigurationError,
  type SqlClient,
} from '../store/index.js';
import type { OpenTransaction, TransactionOpener } from './open-transaction.js';

/** Where a consumer's declared tables live. */
export interface ConsumerSchemaSettings {
  /** The app's projection schema: derived consumer schemas start with it. */
  readonly projectionSchema: string;
  /** The consumer's `schema` option. */
  readonly schema?: string;
  /** Put before an explicit `schema` (test fixtures). */
  readonly prefix?: string;
  /** The consumer's version: from 2 on, the name ends in `_v<version>`. */
  readonly version?: number;
}

/**
 * The schema of a consumer's tables: its `schema` option (after the prefix),
 * else `<projection schema>_<consumer name>`, the name in lower case with
 * every character PostgreSQL would need quoted as `_`; from version 2 on,
 * followed by `_v<version>`.
 */
export function consumerSchemaName(
  consumer: string,
  settings: ConsumerSchemaSettings,
): string {
  const name =
    settings.schema !== undefined
      ? `${settings.prefix ?? ''}${settings.schema}`
      : `${settings.projectionSchema}_${consumer.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  const versioned =
    (settings.version ?? 1) === 1 ? name : `${name}_v${settings.version}`;
  return checkSchemaName(
    versioned,
    settings.schema !== undefined
      ? `The schema of consumer "${consumer}"`
      : `The schema derived for consumer "${consumer}" (set its schema option to a shorter name)`,
  );
}

/** Instances starting together take turns creating one schema. */
const TABLES_LOCK = 0x43_48_50_54; // "CHPT"

/** SQLSTATEs of a CREATE whose table, index or other object already exists. */
const ALREADY_THERE = new Set(['42P07', '42710', '42P06']);

/**
 * Creates the consumer's schema and runs its DDL there, under an advisory
 * lock keyed by the schema, so two instances starting at once take turns.
 * A statement whose object already exists is passed over (each runs in a
 * savepoint), so a restart, or a table added to the list later, just works;
 * a changed definition of an existing table is not applied (raise the
 * consumer's version to rebuild it).
 */
export async function createConsumerTables(
  client: SqlClient,
  schema: string,
  tables: readonly string[],
): Promise<void> {
  await client.transaction(async (tx) => {
    await tx.query(
      'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))',
      [TABLES_LOCK, schema],
    );
    await tx.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await setSearchPath(tx, schema);
    for (const ddl of tables) {
      await tx.exec('SAVEPOINT chronicle_table');
      try {
        await tx.exec(ddl);
        await tx.exec('RELEASE SAVEPOINT chronicle_table');
      } catch (error) {
        if (!ALREADY_THERE.has(sqlStateOf(error) ?? '')) {
          throw new StoreConfigurationError(
            `A table statement of schema "${schema}" failed: ${(error as Error).message}. The statement: ${ddl}`,
          );
        }
        await tx.exec('ROLLBACK TO SAVEPOINT chronicle_table');
        await tx.exec('RELEASE SAVEPOINT chronicle_table');
      }
    }
  });
}

/** Empties every table of the consumer's schema, in the caller's transaction. */
export async function truncateConsumerTables(
  tx: SqlClient,
  schema: string,
): Promise<void> {
  const rows = await tx.query<{ name: string }>(
    'SELECT tablename AS name FROM pg_tables WHERE schemaname = $1::text ORDER BY tablename',
    [schema],
  );
  if (rows.length === 0) return;
  const names = rows.map((r) => `"${schema}"."${r.name.replace(/"/g, '""')}"`);
  await tx.exec(`TRUNCATE ${names.join(', ')}`);
}

/**
 * Puts `schema` first in the transaction's search_path (SET LOCAL: it ends
 * with the transaction), before what the connection had, so the app's
 * projection schema and `public` still resolve after it.
 */
export async function setSearchPath(
  tx: SqlClient,
  schema: string,
): Promise<void> {
  await tx.query(
    `SELECT set_config('search_path', $1::text || ', ' || current_setting('search_path'), true)`,
    [`"${schema}"`],
  );
}

/** An opener whose transactions start with `schema` first in their search_path. */
export function openerInSchema(
  opener: TransactionOpener,
  schema: string,
): TransactionOpener {
  return async (): Promise<OpenTransaction> => {
    const tx = await opener();
    try {
      await setSearchPath(tx.sql, schema);
    } catch (error) {
      await tx.rollback();
      throw error;
    }
    return tx;
  };
}
