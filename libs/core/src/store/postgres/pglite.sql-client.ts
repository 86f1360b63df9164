import type { PGlite, Transaction } from '@electric-sql/pglite';
import { isFolder, lockDataDir, type DataDirLock } from './data-dir-lock.js';
import type { SqlClient, SqlParameter } from './sql-client.js';

type Queryable = PGlite | Transaction;

/**
 * A `SqlClient` over an embedded PGlite database. PGlite is one connection, so
 * its transactions are naturally serial; the same SQL as on a server runs here.
 */
export class PgliteSqlClient implements SqlClient {
  readonly driver = 'pglite';

  private constructor(
    private readonly target: Queryable,
    readonly inTransaction: boolean,
    private readonly owned: boolean,
    /** The lock on the data directory, released on close. */
    private readonly lock?: DataDirLock,
  ) {}

  /**
   * Opens a database in memory, or in `dataDir` when given, which this process
   * then holds alone (`DataDirectoryInUseError` if another one does); `close()`
   * closes it and frees the directory.
   */
  static async open(dataDir?: string): Promise<PgliteSqlClient> {
    const { PGlite } = await import('@electric-sql/pglite');
    const lock =
      dataDir && isFolder(dataDir) ? lockDataDir(dataDir) : undefined;
    try {
      const db = await PGlite.create(dataDir ? { dataDir } : {});
      return new PgliteSqlClient(db, false, true, lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /** A client over an instance the caller owns; `close()` leaves it open. */
  static fromInstance(db: PGlite): PgliteSqlClient {
    return new PgliteSqlClient(db, false, false);
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
    const result = await this.target.query<R>(text, params as SqlParameter[]);
    return result.rows;
  }

  async exec(text: string): Promise<void> {
    await this.target.exec(text);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return (this.target as PGlite).transaction((tx) =>
      fn(new PgliteSqlClient(tx, true, false)),
    );
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
