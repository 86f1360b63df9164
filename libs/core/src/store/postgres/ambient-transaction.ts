import { AsyncLocalStorage } from 'node:async_hooks';
import type { SqlClient } from './sql-client.js';

/**
 * The transaction that the work of this async context runs in. An embedded
 * PGlite database is one session: a statement sent to the database itself
 * while a transaction of the same context is open would wait for that
 * transaction for ever. Its client joins the ambient transaction instead, so
 * a consumer that wrote through `context.sql()` can still load an aggregate,
 * read a stream or send a command, as it can on a server.
 */
export interface AmbientTransaction {
  /** The open transaction, once there is one (a consumer opens it on first use). */
  readonly current: SqlClient | undefined;
  /**
   * The single-session database it holds, when `current` does not say so
   * itself (a TypeORM transaction on the embedded PGlite).
   */
  readonly session?: object;
}

const storage = new AsyncLocalStorage<AmbientTransaction>();

/** Runs `fn` with `ambient` as the transaction its statements may join. */
export function runInAmbientTransaction<R>(
  ambient: AmbientTransaction,
  fn: () => R,
): R {
  return storage.run(ambient, fn);
}

/** The ambient transaction of this async context, if any. */
export function ambientTransaction(): AmbientTransaction | undefined {
  return storage.getStore();
}
