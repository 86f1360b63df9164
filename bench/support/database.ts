import { randomBytes } from 'node:crypto';
import { PgSqlClient, PostgresEventStore } from '@chronicle/core';
import pg from 'pg';

export const DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Connections per pool: enough for the 8-way concurrent cases, the same for every contender. */
export const POOL_SIZE = 8;

/** A schema name no earlier run used. */
export function randomSchemaName(prefix: string): string {
  return `bench_${prefix}_${randomBytes(5).toString('hex')}`;
}

/**
 * One benchmark's database: a pool every contender shares (they take turns,
 * never run at once) and the schemas it made, dropped by `close()`.
 */
export class BenchDatabase {
  readonly pool: pg.Pool;
  readonly client: PgSqlClient;
  private readonly schemas: string[] = [];

  constructor() {
    this.pool = new pg.Pool({
      connectionString: DATABASE_URL,
      max: POOL_SIZE,
      application_name: 'chronicle-bench',
    });
    this.pool.on('error', () => undefined);
    this.client = PgSqlClient.fromPool(this.pool);
  }

  /**
   * A fresh schema holding the events table exactly as Chronicle's migration
   * creates it. Baselines get their own, made the same way.
   */
  async freshStore(prefix: string): Promise<PostgresEventStore> {
    const name = randomSchemaName(prefix);
    this.schemas.push(name);
    const store = new PostgresEventStore(this.client, name);
    await store.migrate();
    return store;
  }

  /** A schema name to hand to `ChronicleModule.forRoot`; dropped on close. */
  reserveSchema(prefix: string): string {
    const name = randomSchemaName(prefix);
    this.schemas.push(name);
    return name;
  }

  /** Opens every pooled connection now, so no round pays for connecting. */
  async warmPool(): Promise<void> {
    const clients = await Promise.all(
      Array.from({ length: POOL_SIZE }, () => this.pool.connect()),
    );
    for (const client of clients) client.release();
  }

  /** The server's version, for the header of the report. */
  async serverVersion(): Promise<string> {
    const { rows } = await this.pool.query<{ server_version: string }>(
      'SHOW server_version',
    );
    return rows[0].server_version;
  }

  /** Drops the schemas and ends the pool. */
  async close(): Promise<void> {
    try {
      for (const name of this.schemas) {
        await this.pool.query(
          `DROP SCHEMA IF EXISTS "${name}", "${name}_projections" CASCADE`,
        );
      }
    } finally {
      await this.pool.end();
    }
  }
}
