import type { PGlite, Transaction } from '@electric-sql/pglite';
import {
  ambientTransaction,
  runInAmbientTransaction,
} from './ambient-transaction.js';
import { isFolder, lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { startPglite } from './pglite-image.js';
import { searchPathOf } from './search-path.js';
import type { SqlClient, SqlParameter } from './sql-client.js';

type Queryable = PGlite | Transaction;

let savepoints = 0;

/**
 * A `SqlClient` over an embedded PGlite database. PGlite is one connection, so
 * its transactions are naturally serial; the same SQL as on a server runs here.
 * A statement sent to the database while a transaction of the same async
 * context is open joins that transaction (see ambient-transaction.ts): waiting
 * for it would wait for ever.
 */
export class PgliteSqlClient implements SqlClient {
  readonly driver = 'pglite';

  private constructor(
    private readonly target: Queryable,
    readonly inTransaction: boolean,
    private readonly owned: boolean,
    /** The database the transaction runs on (the target itself outside one). */
    private readonly db: PGlite = target as PGlite,
    /** The lock on the data directory, released on close. */
    private readonly lock?: DataDirLock,
  ) {}

  /**
   * Opens a database in memory, or in `dataDir` when given, which this process
   * then holds alone (`DataDirectoryInUseError` if another one does); `close()`
   * closes it and frees the directory. With a `projectionSchema`, the session
   * (PGlite has one) runs with the search_path `<projectionSchema>, public`.
   */
  static async open(
    dataDir?: string,
    options: { projectionSchema?: string } = {},
  ): Promise<PgliteSqlClient> {
    const { PGlite } = await import('@electric-sql/pglite');
    const lock =
      dataDir && isFolder(dataDir) ? lockDataDir(dataDir) : undefined;
    try {
      const db = dataDir
        ? await PGlite.create({ dataDir })
        : await startPglite();
      if (options.projectionSchema) {
        await db.exec(
          `SET search_path TO ${searchPathOf(options.projectionSchema)}`,
        );
      }
      return new PgliteSqlClient(db, false, true, db, lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /** A client over an instance the caller owns; `close()` leaves it open. */
  static fromInstance(db: PGlite): PgliteSqlClient {
    return new PgliteSqlClient(db, false, false);
  }

  /** The open transaction on this database that this async context runs in, if any. */
  private joined(): SqlClient | undefined {
    if (this.inTransaction) return undefined;
    const ambient = ambientTransaction();
    const current = ambient?.current;
    if (current instanceof PgliteSqlClient) {
      const open = !(current.target as Transaction).closed;
      return open && current.db === this.db ? current : undefined;
    }
    return current && ambient?.session === this.db ? current : undefined;
  }

  get joinsOpenTransaction(): boolean {
    return this.joined() !== undefined;
  }

  /** The PGlite instance, for other libraries to share (see `typeOrmConnectionOptions`). */
  get database(): PGlite {
    if (this.inTransaction)
      throw new Error('A transaction client does not hand out its database');
    return this.target as PGlite;
  }

  async query<R extends object>(
    text: string,
    params: readonly SqlParameter[] = [],
  ): Promise<R[]> {
    const joined = this.joined();
    if (joined) return joined.query<R>(text, params);
    const result = await this.target.query<R>(text, params as SqlParameter[]);
    return result.rows;
  }

  async exec(text: string): Promise<void> {
    const joined = this.joined();
    if (joined) await joined.exec(text);
    else await this.target.exec(text);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    const joined = this.joined();
    if (joined) return nested(joined, fn);
    return this.db.transaction((tx) => {
      const client = new PgliteSqlClient(tx, true, false, this.db);
      return runInAmbientTransaction({ current: client }, () => fn(client));
    });
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    try {
      await (this.target as PGlite).close();
    } finally {
      this.lock?.release();
    }
  }

  /** PGlite's own LISTEN: notifications from this (single-connection) database. */
  async listen(
    channel: string,
    onNotify: (payload: string) => void,
  ): Promise<() => Promise<void>> {
    if (this.inTransaction) {
      throw new Error('listen() needs the database, not a transaction');
    }
    const db = this.target as PGlite;
    const stop = await db.listen(channel, onNotify);
    return async () => {
      if (!db.closed) await stop();
    };
  }
}

/** A transaction inside the joined one: a savepoint, so its failure undoes only its own writes. */
async function nested<T>(
  tx: SqlClient,
  fn: (tx: SqlClient) => Promise<T>,
): Promise<T> {
  const name = `chronicle_joined_${++savepoints}`;
  await tx.query(`SAVEPOINT ${name}`);
  try {
    const result = await fn(tx);
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    throw error;
  }
}
