import type { EntityManager } from 'typeorm';
import type { SqlClient } from '../store/index.js';

/**
 * A transaction held open across a batch of events: the consumer's writes and
 * its new position go through `sql` (and `entityManager`, when it runs on a
 * TypeORM DataSource), then `commit` or `rollback` ends it.
 */
export interface OpenTransaction {
  readonly sql: SqlClient;
  readonly entityManager?: EntityManager;
  /** The embedded database whose one session it holds, when `sql` cannot tell (TypeORM on PGlite). */
  readonly session?: object;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** Opens a consumer's transactions: on Chronicle's pool, or on a TypeORM DataSource. */
export type TransactionOpener = () => Promise<OpenTransaction>;

const ROLLBACK = Symbol('rollback');

/**
 * A transaction on a `SqlClient`, whose API only runs a callback inside one:
 * the callback hands the transaction out and waits until the batch decides.
 */
export function openClientTransaction(
  client: SqlClient,
): Promise<OpenTransaction> {
  return new Promise<OpenTransaction>((ready, fail) => {
    let decide: (commit: boolean) => void = () => undefined;
    const decided = new Promise<boolean>((resolve) => (decide = resolve));
    const holder: { done?: Promise<void> } = {};
    holder.done = client.transaction(async (tx) => {
      ready({
        sql: tx,
        async commit() {
          decide(true);
          await holder.done;
        },
        async rollback() {
          decide(false);
          await holder.done?.catch(() => undefined);
        },
      });
      if (!(await decided)) throw ROLLBACK;
    });
    // A failure before the transaction was handed out (no connection, BEGIN failed).
    holder.done.catch((error: unknown) => {
      if (error !== ROLLBACK) fail(error);
    });
  });
}
