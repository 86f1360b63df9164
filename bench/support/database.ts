import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
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
  /** This pool's own name on the server, so its backends can be told from other runs'. */
  private readonly applicationName = `chronicle-bench-${process.pid}-${randomBytes(3).toString('hex')}`;

  constructor() {
    this.pool = new pg.Pool({
      connectionString: DATABASE_URL,
      max: POOL_SIZE,
      application_name: this.applicationName,
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

  /** Each backend's CPU ticks when last read, and the running total of their increases. */
  private readonly backendTicks = new Map<number, number>();
  private serverTicks = 0;

  /**
   * CPU time (user + system, ms) used by the server's backends of this pool
   * since the first call, read from `/proc/<pid>/stat`: only where the server
   * runs on this machine (else NaN). Steadier than throughput on a shared
   * machine. A running total of each backend's increase, so that a
   * connection the pool closes or opens between two reads neither takes its
   * time away nor counts it twice.
   */
  async serverCpuMs(): Promise<number> {
    const { rows } = await this.pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
      [this.applicationName],
    );
    const first = this.backendTicks.size === 0;
    try {
      for (const { pid } of rows) {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(fields[11]) + Number(fields[12]);
        // A backend first seen after the first read started during the run: all its time counts.
        if (!first)
          this.serverTicks += ticks - (this.backendTicks.get(pid) ?? 0);
        this.backendTicks.set(pid, ticks);
      }
    } catch {
      return NaN;
    }
    // Linux reports these in clock ticks of 1/100 s on every common configuration.
    return this.serverTicks * 10;
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
