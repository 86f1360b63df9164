import type { DataSource, QueryRunner } from 'typeorm';
import type { SqlClient, SqlParameter } from '../store/index.js';
import type { OpenTransaction } from './open-transaction.js';

/*
 * TypeORM is an optional peer: this file only imports its types. The
 * DataSource instance comes from the app's Nest container (ConsumerExplorer),
 * so core never loads typeorm itself.
 */

/** Chronicle's `SqlClient` over a TypeORM query runner inside its transaction. */
class QueryRunnerSqlClient implements SqlClient {
  readonly driver = 'pg';
  readonly inTransaction = true;

  constructor(private readonly runner: QueryRunner) {}

  async query<R extends object>(
    text: string,
    params: readonly SqlParameter[] = [],
  ): Promise<R[]> {
    const result = await this.runner.query(text, [...params], true);
    return (result.records ?? []) as R[];
  }

  async exec(text: string): Promise<void> {
    await this.runner.query(text);
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async close(): Promise<void> {}
}

/**
 * A transaction on a connection of the DataSource: its EntityManager and our
 * SQL share it. `session`: the embedded database it holds, when it is one.
 */
export async function openTypeOrmTransaction(
  dataSource: DataSource,
  session?: object,
): Promise<OpenTransaction> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
  } catch (error) {
    await runner.release();
    throw error;
  }
  return {
    sql: new QueryRunnerSqlClient(runner),
    entityManager: runner.manager,
    session,
    async commit() {
      try {
        await runner.commitTransaction();
      } finally {
        await runner.release();
      }
    },
    async rollback() {
      try {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
      } catch {
        // The connection is gone; the server rolled back already.
      } finally {
        await runner.release();
      }
    },
  };
}

/** Whether an object from the Nest container is a TypeORM DataSource on PostgreSQL. */
export function isPostgresDataSource(value: unknown): value is DataSource {
  if (!value || typeof value !== 'object') return false;
  const candidate = value as Partial<DataSource>;
  return (
    typeof candidate.createQueryRunner === 'function' &&
    candidate.options?.type === 'postgres'
  );
}
