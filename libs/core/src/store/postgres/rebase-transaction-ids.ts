import { RebaseRefusedError } from '../store.errors.js';
import { MIGRATION_LOCK } from './migrations/migrate.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';
import {
  checkTransactionIds,
  storedMaximum,
  transactionCounter,
  xidColumns,
} from './transaction-ids.js';

/*
 * Re-basing a store moved to another cluster (see transaction-ids.ts): every
 * distinct transaction id of the events is replaced by its rank (from 3, the
 * first normal transaction id), so the log keeps its (transaction_id, position)
 * order exactly and every id is below the new cluster's counter, which is
 * advanced first if the log holds more transactions than it has handed out.
 * Checkpoints (consumer positions, pending resets, dead letters) are moved to
 * the event they stood at, or the last event before them, re-based the same
 * way: a consumer goes on exactly where it was. Nothing else changes.
 */

/** The tables that hold a checkpoint: its transaction id column and position column. */
const CHECKPOINTS: Readonly<Record<string, string>> = {
  consumer_positions: 'position',
  consumer_resets: 'position',
  dead_letters: 'event_position',
};

const FIRST_ID = 3n;

export interface RebaseReport {
  /** Whether anything was rewritten (nothing when the ids were not ahead). */
  readonly rebased: boolean;
  /** How many distinct transactions the log holds (each got a new id). */
  readonly transactions: number;
  /** The highest stored id before, and the database's counter before. */
  readonly storedMaximum?: bigint;
  readonly counterBefore: bigint;
  readonly counterAfter: bigint;
}

export async function rebaseTransactionIds(
  client: SqlClient,
  schema: StoreSchema,
  options: { force?: boolean } = {},
): Promise<RebaseReport> {
  if (client.inTransaction) {
    throw new RebaseRefusedError(
      'Re-base with a client of its own, not inside a transaction: it commits as it goes.',
    );
  }
  await refuseUnknownColumns(client, schema);
  const top = await storedMaximum(client, schema);
  const counterBefore = await transactionCounter(client);
  if (!top || (top.value < counterBefore && !options.force)) {
    return {
      rebased: false,
      transactions: 0,
      storedMaximum: top?.value,
      counterBefore,
      counterAfter: counterBefore,
    };
  }
  const transactions = await distinctTransactions(client, schema);
  const highest = FIRST_ID + BigInt(transactions);
  if (counterBefore <= highest) {
    await advanceCounter(client, Number(highest - counterBefore + 1n));
  }
  await client.transaction(async (tx) => {
    // Starting apps migrate under this lock: they wait, then find the ids re-based.
    await tx.query(
      'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))',
      [MIGRATION_LOCK, schema.name],
    );
    await rewrite(tx, schema);
  });
  await checkTransactionIds(client, schema);
  return {
    rebased: true,
    transactions,
    storedMaximum: top.value,
    counterBefore,
    counterAfter: await transactionCounter(client),
  };
}

/** A column of transaction ids this procedure does not know would be left ahead. */
async function refuseUnknownColumns(
  client: SqlClient,
  schema: StoreSchema,
): Promise<void> {
  const unknown = (await xidColumns(client, schema)).filter(
    (c) =>
      !(c.table === 'events' && c.column === 'transaction_id') &&
      !(c.table in CHECKPOINTS && c.column === 'transaction_id'),
  );
  if (unknown.length > 0) {
    throw new RebaseRefusedError(
      `Schema "${schema.name}" has transaction-id columns the re-base does not know how to move: ` +
        `${unknown.map((c) => `${c.table}.${c.column}`).join(', ')}. Nothing was changed; ` +
        'teach rebase-transaction-ids.ts about them first.',
    );
  }
}

async function distinctTransactions(
  client: SqlClient,
  schema: StoreSchema,
): Promise<number> {
  const [row] = await client.query<{ n: string }>(
    `SELECT count(DISTINCT transaction_id)::text AS n FROM ${schema.events}`,
  );
  return Number(row.n);
}

/** Takes `count` transaction ids, one committed transaction each, in one round trip. */
export async function advanceCounter(
  client: SqlClient,
  count: number,
): Promise<void> {
  if (!Number.isInteger(count) || count <= 0) return;
  await client.exec(
    `DO $$ BEGIN FOR i IN 1..${count} LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$;`,
  );
}

async function rewrite(tx: SqlClient, schema: StoreSchema): Promise<void> {
  const present = new Set((await xidColumns(tx, schema)).map((c) => c.table));
  const checkpoints = Object.keys(CHECKPOINTS).filter((t) => present.has(t));
  await tx.exec(`
    LOCK TABLE ${[schema.events, ...checkpoints.map((t) => schema.table(t))].join(', ')}
      IN ACCESS EXCLUSIVE MODE;
    CREATE TEMP TABLE chronicle_rebase ON COMMIT DROP AS
      SELECT transaction_id AS old,
             (${FIRST_ID - 1n} + row_number() OVER (ORDER BY transaction_id))::text::xid8 AS new
      FROM (SELECT DISTINCT transaction_id FROM ${schema.events}) d;
    CREATE UNIQUE INDEX ON chronicle_rebase (old);
  `);
  // Checkpoints first: they are found among the events by their old ids.
  for (const table of checkpoints) {
    await tx.exec(rebaseCheckpoints(schema, table, CHECKPOINTS[table]));
  }
  await tx.exec(`
    UPDATE ${schema.events} e SET transaction_id = m.new
    FROM chronicle_rebase m WHERE e.transaction_id = m.old;
  `);
}

/** Moves each checkpoint to the event at or before it, with that event's new id. */
function rebaseCheckpoints(
  schema: StoreSchema,
  table: string,
  position: string,
): string {
  const target = schema.table(table);
  return `
    UPDATE ${target} c
    SET transaction_id = coalesce(m.new, '0'::xid8), "${position}" = coalesce(l.position, 0)
    FROM ${target} c2
    LEFT JOIN LATERAL (
      SELECT e.transaction_id, e.position FROM ${schema.events} e
      WHERE (e.transaction_id, e.position) <= (c2.transaction_id, c2."${position}")
      ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1
    ) l ON true
    LEFT JOIN chronicle_rebase m ON m.old = l.transaction_id
    WHERE c.ctid = c2.ctid;
  `;
}
