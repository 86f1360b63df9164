import type { PGlite, Transaction } from '@electric-sql/pglite';
import {
  ambientTransaction,
  runInAmbientTransaction,
} from './ambient-transaction.js';
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
  ) {}

  /** Opens a database in memory, or in `dataDir` when given; `close()` closes it. */
  static async open(dataDir?: string): Promise<PgliteSqlClient> {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create(dataDir ? { dataDir } : {});
    return new PgliteSqlClient(db, false, true);
  }

  /** A client over an instance the caller owns; `close()` leaves it open. */
  static fromInstance(db: PGlite): PgliteSqlClient {
    return new PgliteSqlClient(db, false, false);
  }

  /** The open transaction on this database that this async context runs in, if any. */
  private joined(): PgliteSqlClient | undefined {
    if (this.inTransaction) return undefined;
    const ambient = ambientTransaction();
    if (!(ambient instanceof PgliteSqlClient) || ambient.db !== this.db)
      return undefined;
    return (ambient.target as Transaction).closed ? undefined : ambient;
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
    const target = this.joined()?.target ?? this.target;
    const result = await target.query<R>(text, params as SqlParameter[]);
    return result.rows;
  }

  async exec(text: string): Promise<void> {
    await (this.joined()?.target ?? this.target).exec(text);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    const joined = this.joined();
    if (joined) return joined.nested(fn);
    return this.db.transaction((tx) => {
      const client = new PgliteSqlClient(tx, true, false, this.db);
      return runInAmbientTransaction({ current: client }, () => fn(client));
    });
  }

  /** A transaction inside the joined one: a savepoint, so its failure undoes only its own writes. */
  private async nested<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const name = `chronicle_joined_${++savepoints}`;
    await this.target.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      await this.target.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await this.target.query(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.target.query(`RELEASE SAVEPOINT ${name}`);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.owned) await (this.target as PGlite).close();
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
