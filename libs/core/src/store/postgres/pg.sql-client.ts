import { createHash } from 'node:crypto';
import pg from 'pg';
import { DatabaseUnavailableError } from '../store.errors.js';
import { withSearchPath } from './search-path.js';
import {
  isConnectionFailure,
  type QueryOptions,
  type SqlClient,
  type SqlParameter,
} from './sql-client.js';

const statementNames = new Map<string, string>();

/** A stable name for a statement text, so each connection prepares it once. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `chronicle_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

type Queryable = pg.Pool | pg.PoolClient;

/** A `SqlClient` over node-postgres: a pool, or one connection inside a transaction. */
export class PgSqlClient implements SqlClient {
  readonly driver = 'pg';

  private constructor(
    private readonly target: Queryable,
    readonly inTransaction: boolean,
    private readonly owned: boolean,
    /** One connection of a pool, held for a session (`session`). */
    private readonly pinned = false,
  ) {}

  /**
   * A client that owns a new pool to `url`; `close()` ends it. With a
   * `projectionSchema`, every connection of the pool starts with the
   * search_path `<projectionSchema>, public` (see search-path.ts).
   */
  static connect(
    url: string,
    options: { max?: number; projectionSchema?: string } = {},
  ): PgSqlClient {
    const pool = new pg.Pool({
      connectionString: options.projectionSchema
        ? withSearchPath(url, options.projectionSchema)
        : url,
      max: options.max ?? 10,
      application_name: 'chronicle',
    });
    // An idle connection that dies (server restart) must not crash the process;
    // the pool replaces it on the next checkout.
    pool.on('error', () => undefined);
    return new PgSqlClient(pool, false, true);
  }

  /** A client over a pool the caller owns; `close()` leaves it open. */
  static fromPool(pool: pg.Pool): PgSqlClient {
    return new PgSqlClient(pool, false, false);
  }

  /** How the pool connects, for other libraries to reach the same database. */
  connectionOptions(): pg.PoolConfig {
    const pool = this.target as pg.Pool & { options?: pg.PoolConfig };
    return { ...pool.options };
  }

  async query<R extends object>(
    text: string,
    params: readonly SqlParameter[] = [],
    options: QueryOptions = {},
  ): Promise<R[]> {
    const values = params as SqlParameter[];
    const result = await unavailableAsTyped(() =>
      options.prepare
        ? this.target.query<R>({ name: statementName(text), text, values })
        : this.target.query<R>(text, values),
    );
    return result.rows;
  }

  async exec(text: string): Promise<void> {
    await unavailableAsTyped(() => this.target.query(text));
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    if (this.pinned)
      return PgSqlClient.inTransaction(this.target as pg.PoolClient, fn);
    return this.checkout((client) => PgSqlClient.inTransaction(client, fn));
  }

  /** BEGIN, `fn`, COMMIT on one connection; ROLLBACK when `fn` throws. */
  private static async inTransaction<T>(
    client: pg.PoolClient,
    fn: (tx: SqlClient) => Promise<T>,
  ): Promise<T> {
    await unavailableAsTyped(() => client.query('BEGIN'));
    try {
      const result = await fn(new PgSqlClient(client, true, false));
      await unavailableAsTyped(() => client.query('COMMIT'));
      return result;
    } catch (error) {
      // On a lost connection this fails too, and the connection is thrown away.
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async session<T>(fn: (session: SqlClient) => Promise<T>): Promise<T> {
    if (this.inTransaction || this.pinned) {
      throw new Error(
        'A session is taken from the pool: ask the pool client for it, not a transaction or another session.',
      );
    }
    return this.checkout((client) =>
      fn(new PgSqlClient(client, false, false, true)),
    );
  }

  /** A connection of the pool for `fn`, thrown away rather than reused if it died. */
  private async checkout<T>(
    fn: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    const client = await unavailableAsTyped(() =>
      (this.target as pg.Pool).connect(),
    );
    // A checked-out connection has no listener of the pool's: without one, a
    // connection that dies (a server restart, pg_terminate_backend) raises an
    // unhandled 'error' event and ends the process. Its queries fail instead,
    // and the connection is thrown away.
    let lost: Error | undefined;
    const onError = (error: Error) => (lost ??= error);
    client.on('error', onError);
    try {
      return await fn(client);
    } finally {
      client.release(lost);
      client.removeListener('error', onError);
    }
  }

  async close(): Promise<void> {
    if (this.owned) await (this.target as pg.Pool).end();
  }

  /** A connection of its own, outside the pool, with the pool's settings: LISTEN holds it. */
  async listen(
    channel: string,
    onNotify: (payload: string) => void,
    onError: (error: Error) => void = () => undefined,
  ): Promise<() => Promise<void>> {
    if (this.inTransaction) {
      throw new Error('listen() needs the pool client, not a transaction');
    }
    const connection = new pg.Client({
      ...(this.target as pg.Pool).options,
      application_name: 'chronicle-listen',
    });
    let closed = false;
    connection.on('error', (error) => {
      if (closed) return;
      closed = true;
      connection.end().catch(() => undefined);
      onError(error);
    });
    connection.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    await connection.connect();
    await connection.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    return async () => {
      if (closed) return;
      closed = true;
      await connection.end().catch(() => undefined);
    };
  }
}

/**
 * Runs a driver call, turning a lost or refused connection into
 * `DatabaseUnavailableError`, so callers (a consumer's retries, a schedule's
 * attempts) can tell "the database is away" from "this statement failed".
 */
async function unavailableAsTyped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isConnectionFailure(error)) throw new DatabaseUnavailableError(error);
    throw error;
  }
}
