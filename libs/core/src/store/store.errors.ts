import { isConnectionFailure } from './postgres/sql-client.js';
import { ChronicleError } from '../messages/index.js';

/** The store was configured with something it cannot use. */
export class StoreConfigurationError extends ChronicleError {
  readonly code = 'STORE_CONFIGURATION';
}

/** An append was malformed (no stream id, a stream twice, a bad expected version...). */
export class InvalidAppendError extends ChronicleError {
  readonly code = 'INVALID_APPEND';
}

/** A command id was recorded as handled by another writer first. */
export class CommandAlreadyHandledError extends ChronicleError {
  readonly code = 'COMMAND_ALREADY_HANDLED';

  constructor(readonly commandId: string) {
    super(
      `Command ${commandId} has already been handled; its stored result stands.`,
    );
  }
}

/**
 * An append in a transaction that had already written something else. The log
 * orders events by the id of the transaction that wrote them, and a transaction
 * gets its id at its first write: appending after another write could put a
 * stream's later version before its earlier one, so it is refused.
 */
export class AppendNotFirstWriteError extends ChronicleError {
  readonly code = 'APPEND_NOT_FIRST_WRITE';

  constructor(readonly streamIds: readonly string[]) {
    super(
      `Cannot append to ${describeStreams(streamIds)}: this transaction already wrote something else, ` +
        'and the events insert must be the first write of its transaction (or a stream could get a later ' +
        'version ordered before an earlier one in the log). Append first, then write your own rows through ' +
        'the transaction, or write them in a transaction of their own.',
    );
  }
}

function describeStreams(streamIds: readonly string[]): string {
  if (streamIds.length === 0) return 'the event store (a command record)';
  return streamIds.map((id) => `stream "${id}"`).join(', ');
}

/** An embedded (PGlite) data directory is already open in another process. */
export class DataDirectoryInUseError extends ChronicleError {
  readonly code = 'DATA_DIRECTORY_IN_USE';

  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly lockFile: string,
    host?: string,
  ) {
    super(
      `The embedded database directory "${dataDir}" is in use by process ${pid}` +
        `${host ? ` on ${host}` : ''}. Two processes on one PGlite directory lose acknowledged ` +
        'writes and corrupt it. Stop that process, give this one a directory of its own ' +
        '(database.dataDir), or share the store through a PostgreSQL server (database.url). ' +
        `If no such process is running, delete "${lockFile}".`,
    );
  }
}

/**
 * The store holds transaction ids above the database's transaction counter:
 * it was restored or moved from another cluster. Readers order the log by
 * transaction id and read only ids below the oldest running transaction, so
 * they would read nothing until the counter caught up.
 */
export class TransactionIdsAheadError extends ChronicleError {
  readonly code = 'TRANSACTION_IDS_AHEAD';

  constructor(
    readonly schema: string,
    /** The highest stored transaction id, and where it is. */
    readonly storedMaximum: bigint,
    readonly column: string,
    /** The next transaction id this database will hand out. */
    readonly counter: bigint,
  ) {
    super(
      `The event store in schema "${schema}" holds transaction id ${storedMaximum} (in ${column}), ` +
        `ahead of this database's transaction counter (${counter}): its data was restored or moved from ` +
        'another PostgreSQL cluster (pg_dump/pg_restore, PGlite to a server, logical replication). ' +
        'Readers would see no event, old or new, until the counter passes it, so Chronicle does not start. ' +
        'Stop every app on this store and re-base its transaction ids once: ' +
        `npx chronicle rebase --schema ${schema} --url <database url> (or --data-dir <folder>). ` +
        'See "Moving a store to another database" in docs/guides/event-store.md.',
    );
  }
}

/** A transaction-id re-base could not run safely. */
export class RebaseRefusedError extends ChronicleError {
  readonly code = 'REBASE_REFUSED';
}

/**
 * The database could not be reached or the connection died (a restart, a
 * failover, a network cut): nothing is wrong with the statement or the
 * handler. Whatever ran in a transaction was rolled back; try again later.
 */
export class DatabaseUnavailableError extends ChronicleError {
  readonly code = 'DATABASE_UNAVAILABLE';

  constructor(override readonly cause: unknown) {
    super(
      `The database is unavailable: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Nothing in the failed transaction was kept; it is safe to try again once the database is back.',
    );
  }
}

/**
 * Whether an error means the database was away rather than that the work
 * failed: a `DatabaseUnavailableError`, or any error carrying its code (a
 * remote handler's, rebuilt by the transport), or a raw connection failure.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'DATABASE_UNAVAILABLE' || isConnectionFailure(error);
}
