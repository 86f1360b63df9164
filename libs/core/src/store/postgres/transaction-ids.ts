import { TransactionIdsAheadError } from '../store.errors.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

/*
 * The log is ordered by the id of the transaction that wrote each event, and
 * readers take only ids below the oldest running transaction. Those ids are the
 * cluster's own counter: after a dump and restore, a move from PGlite to a
 * server, or a logical-replication upgrade, the stored ids can be above the
 * new cluster's counter, and then nothing is read. Every xid8 column of the
 * schema (events, checkpoints, resets...) is checked, since a checkpoint ahead
 * of the counter would skip every new event just the same.
 */

/** A column of the schema that holds transaction ids. */
export interface XidColumn {
  readonly table: string;
  readonly column: string;
}

export async function xidColumns(
  client: SqlClient,
  schema: StoreSchema,
): Promise<XidColumn[]> {
  const rows = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = $1::text AND udt_name = 'xid8'
     ORDER BY table_name, column_name`,
    [schema.name],
  );
  return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
}

/** The next transaction id the database will hand out (without taking one). */
export async function transactionCounter(client: SqlClient): Promise<bigint> {
  const [row] = await client.query<{ next: string }>(
    'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next',
  );
  return BigInt(row.next);
}

/** The highest stored transaction id of the schema, and its column; none when empty. */
export async function storedMaximum(
  client: SqlClient,
  schema: StoreSchema,
): Promise<{ value: bigint; column: string } | undefined> {
  const columns = await xidColumns(client, schema);
  if (columns.length === 0) return undefined;
  const parts = columns.map(
    (c, i) =>
      `SELECT $${i + 1}::text AS what, max("${c.column}")::text AS value FROM ${schema.table(c.table)}`,
  );
  const rows = await client.query<{ what: string; value: string | null }>(
    parts.join(' UNION ALL '),
    columns.map((c) => `${c.table}.${c.column}`),
  );
  let top: { value: bigint; column: string } | undefined;
  for (const row of rows) {
    if (row.value === null) continue;
    const value = BigInt(row.value);
    if (!top || value > top.value) top = { value, column: row.what };
  }
  return top;
}

/** Refuses a store whose transaction ids are ahead of the database's counter. */
export async function checkTransactionIds(
  client: SqlClient,
  schema: StoreSchema,
): Promise<void> {
  const top = await storedMaximum(client, schema);
  if (!top) return;
  const counter = await transactionCounter(client);
  if (top.value >= counter) {
    throw new TransactionIdsAheadError(
      schema.name,
      top.value,
      top.column,
      counter,
    );
  }
}
