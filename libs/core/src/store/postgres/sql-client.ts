/**
 * The little that the store needs from a PostgreSQL connection. Both drivers,
 * node-postgres and PGlite, implement it, so every statement is written once.
 */
export interface SqlClient {
  /** Which driver runs the statements. */
  readonly driver: 'pg' | 'pglite';
  /** Whether statements run inside a transaction (a failed one aborts it). */
  readonly inTransaction: boolean;
  /**
   * Whether statements from this async context run in a transaction opened
   * elsewhere (PGlite: a consumer's batch transaction, on its one session).
   */
  readonly joinsOpenTransaction?: boolean;
  /** Runs one statement with positional parameters (`$1`...). */
  query<R extends object = Record<string, unknown>>(
    text: string,
    params?: readonly SqlParameter[],
    options?: QueryOptions,
  ): Promise<R[]>;
  /** Runs a script of several statements, without parameters. */
  exec(text: string): Promise<void>;
  /**
   * Runs `fn` in a transaction on one connection: committed when it resolves,
   * rolled back when it throws. Inside a transaction, it simply runs `fn`.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` on one connection of its own, not in a transaction (its
   * `transaction` opens one on that connection): for a session advisory lock
   * held across statements that cannot run in a transaction block, such as
   * CREATE INDEX CONCURRENTLY. Absent: the client has no such connection to
   * give (PGlite is one session; a client inside a transaction is in one).
   */
  session?<T>(fn: (session: SqlClient) => Promise<T>): Promise<T>;
  /** Releases the connection or pool, unless it was handed in by the user. */
  close(): Promise<void>;
  /**
   * LISTENs on `channel` (on a dedicated connection with `pg`) and calls
   * `onNotify` with each payload; NOTIFYs sent in a transaction arrive after it
   * commits. Resolves to a function that stops listening. `onError` hears of a
   * lost connection: listening has then stopped. Absent: the driver cannot listen.
   */
  listen?(
    channel: string,
    onNotify: (payload: string) => void,
    onError?: (error: Error) => void,
  ): Promise<() => Promise<void>>;
}

export interface QueryOptions {
  /**
   * Prepare the statement once per connection and reuse its plan. For the
   * store's own hot statements, whose text is fixed: a server keeps every
   * prepared statement for the connection's lifetime.
   */
  readonly prepare?: boolean;
}

/** Parameters are kept to types both drivers send the same way; JSON goes as text. */
export type SqlParameter = string | number | boolean | null;

/** The SQLSTATE of a database error, whichever driver raised it. */
export function sqlStateOf(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Whether a database error is a unique violation of the named constraint. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  if (sqlStateOf(error) !== '23505') return false;
  const named = (error as { constraint?: unknown }).constraint;
  if (typeof named === 'string') return named === constraint;
  return String((error as { message?: unknown }).message).includes(constraint);
}

// Socket errors of a connection that could not be made or was cut.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether a driver error means the connection, not the statement, failed:
 * SQLSTATE class 08 (connection exception), 57P01-57P03 (the server shutting
 * down, crashed, or not accepting connections yet), 53300 (no connection
 * slot), a socket error, or node-postgres's own words for a dead connection.
 */
export function isConnectionFailure(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state !== undefined) {
    return (
      state.startsWith('08') ||
      state === '57P01' ||
      state === '57P02' ||
      state === '57P03' ||
      state === '53300' ||
      SOCKET_CODES.has(state)
    );
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection error and is not queryable|Client was closed and is not queryable/i.test(
    message,
  );
}
