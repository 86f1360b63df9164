import type { PGlite, Results, Transaction } from '@electric-sql/pglite';

/*
 * TypeORM's PostgreSQL driver talks to node-postgres (`driver.Pool`,
 * `pool.connect`, `connection.query`). This is that surface over an embedded
 * PGlite, so an app's TypeORM entities live in the same database as
 * Chronicle's events: one process, no server, the same code as on PostgreSQL.
 *
 * PGlite is a single session that serialises callers with a mutex. Statements
 * outside a transaction run as soon as the database is free, each on its own;
 * `BEGIN` takes the database for this connection with a PGlite transaction
 * until `COMMIT` or `ROLLBACK`, exactly as a server connection would hold its
 * transaction. So Chronicle's own work and TypeORM's never interleave inside
 * one transaction.
 */

interface PgResult {
  readonly rows: unknown[];
  readonly rowCount: number;
  readonly command: string;
  readonly fields: Results['fields'];
}

type Callback = (error?: Error) => void;

/** The first keyword of a statement, upper-cased: TypeORM reads it as `command`. */
function commandOf(text: string): string {
  return /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? '';
}

const BEGIN = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const COMMIT = /^\s*(COMMIT|END)\s*;?\s*$/i;
const ROLLBACK = /^\s*ROLLBACK\s*;?\s*$/i;

interface OpenTransaction {
  readonly tx: Transaction;
  end(commit: boolean): void;
  readonly done: Promise<void>;
}

class PgliteConnection {
  private open?: OpenTransaction;

  constructor(private readonly db: PGlite) {}

  async query(text: string, params: unknown[] = []): Promise<PgResult> {
    if (BEGIN.test(text)) {
      if (!this.open) await this.begin();
      return empty('BEGIN');
    }
    if (COMMIT.test(text)) {
      await this.finish(true);
      return empty('COMMIT');
    }
    if (ROLLBACK.test(text)) {
      await this.finish(false);
      return empty('ROLLBACK');
    }
    const target = this.open?.tx ?? this.db;
    // The extended protocol (parameters) takes one statement; a script without
    // parameters may hold several, as TypeORM's schema sync sometimes sends.
    const result =
      params.length > 0
        ? await target.query(text, params)
        : ((await target.exec(text)).at(-1) ?? { rows: [], fields: [] });
    return {
      rows: result.rows,
      rowCount: result.affectedRows ?? result.rows.length,
      command: commandOf(text),
      fields: result.fields,
    };
  }

  /** Ends a transaction left open (a connection released after an error): rolled back. */
  async release(): Promise<void> {
    if (this.open) await this.finish(false);
  }

  // node-postgres connections are event emitters; TypeORM only subscribes.
  on(): this {
    return this;
  }
  removeListener(): this {
    return this;
  }

  private begin(): Promise<void> {
    return new Promise<void>((ready, fail) => {
      let end: (commit: boolean) => void = () => undefined;
      const decided = new Promise<boolean>((resolve) => (end = resolve));
      const holder: { done?: Promise<void> } = {};
      holder.done = this.db.transaction(async (tx) => {
        this.open = { tx, end, done: holder.done! };
        ready();
        if (!(await decided)) await tx.rollback();
      });
      holder.done.catch(fail);
    });
  }

  private async finish(commit: boolean): Promise<void> {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    open.end(commit);
    await open.done;
  }
}

function empty(command: string): PgResult {
  return { rows: [], rowCount: 0, command, fields: [] };
}

/** A node-postgres-shaped module for TypeORM's `driver` option, over `db`. */
export function pgliteAsPg(db: PGlite): { Pool: new () => object } {
  class Pool {
    connect(
      callback?: (
        error: Error | undefined,
        connection: PgliteConnection,
        release: Callback,
      ) => void,
    ): Promise<PgliteConnection> | undefined {
      const connection = new PgliteConnection(db);
      if (!callback) return Promise.resolve(connection);
      callback(undefined, connection, () => void connection.release());
      return undefined;
    }

    on(): this {
      return this;
    }

    /** Chronicle owns the database: TypeORM's pool ending leaves it open. */
    end(callback?: Callback): Promise<void> {
      callback?.();
      return Promise.resolve();
    }
  }
  return { Pool };
}
