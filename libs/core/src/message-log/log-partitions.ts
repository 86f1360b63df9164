import {
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  sqlStateOf,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';
import { LOGGED_KINDS, type LoggedKind } from './log-entry.js';
import type { ResolvedMessageLogOptions } from './message-log.options.js';
import {
  addDays,
  dayOf,
  firstKeptDay,
  parsePartitionName,
  partitionName,
  startOf,
  type PartitionDay,
} from './partition-days.js';

/**
 * Days made ahead of today: tomorrow's partitions exist a day before the
 * hourly runs need them. Each partition costs an app's first start on a new
 * schema its tables and indexes, so no more than that.
 */
export const DAYS_AHEAD = 1;

/** First key of the advisory lock that makes maintenance runs on one schema take turns. */
const PARTITIONS_LOCK = 0x4d_4c_4f_47; // "MLOG"

export interface LogPartitionsSettings {
  /** Days after today whose partitions are made ahead. Default `DAYS_AHEAD`. */
  readonly daysAhead?: number;
  /** Between two runs, in ms. Default one hour. */
  readonly intervalMs?: number;
  /**
   * How long a step waits for a table lock (a long query over the log holds
   * one) before it is left to the next run. Default 5 s.
   */
  readonly lockTimeoutMs?: number;
  /** Where the time comes from. Default the system clock. */
  readonly now?: () => Date;
}

/** What one maintenance run did. */
export interface LogMaintenanceReport {
  /** Partitions made (`message_log_<kind>_<yyyymmdd>`). */
  readonly created: string[];
  /** Partitions dropped, their days past retention. */
  readonly dropped: string[];
  /** Rows moved out of the default partition into the day partitions made for them. */
  readonly moved: number;
  /** Rows deleted from the default partition, their days past retention. */
  readonly deleted: number;
  /** Steps that could not get their lock in time; the next run tries them again. */
  readonly postponed: string[];
}

const listSql = `
  SELECT c.relname AS name
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = $1::text::regclass`;

const defaultDaysSql = (s: StoreSchema) => `
  SELECT kind, to_char(logged_at AT TIME ZONE 'UTC', 'YYYYMMDD') AS day
    FROM ${s.table('message_log_default')}
   GROUP BY 1, 2`;

const moveSql = (s: StoreSchema, table: string) => `
  WITH moved AS (
    DELETE FROM ${s.table('message_log_default')}
     WHERE kind = $1::text AND logged_at >= $2::timestamptz AND logged_at < $3::timestamptz
    RETURNING *
  ), inserted AS (
    INSERT INTO ${table} SELECT * FROM moved RETURNING 1
  )
  SELECT count(*)::int AS moved FROM inserted`;

/**
 * The message log's day partitions, one per kind and UTC day, and its
 * retention. A run makes today's and the next days' partitions (so rows never
 * land in the default partition while the app runs), drops each kind's days
 * past its `retentionDays` (DROP TABLE: no DELETE, no vacuum of dead rows),
 * and empties the default partition of what it caught while a day had no
 * partition. It runs before the app starts (the module awaits `maintain()`
 * in the provider's factory), then every hour. Runs on one schema, from any
 * number of instances, take turns under an advisory lock; each step is its
 * own short transaction, so no table is locked for the whole run.
 */
export class MessageLogPartitions
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('Chronicle message log');
  private readonly daysAhead: number;
  private readonly intervalMs: number;
  private readonly lockTimeoutMs: number;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly client: SqlClient,
    private readonly schema: StoreSchema,
    private readonly options: ResolvedMessageLogOptions,
    settings: LogPartitionsSettings = {},
  ) {
    this.daysAhead = settings.daysAhead ?? DAYS_AHEAD;
    this.intervalMs = settings.intervalMs ?? 3_600_000;
    this.lockTimeoutMs = Math.max(
      1,
      Math.round(settings.lockTimeoutMs ?? 5000),
    );
    this.now = settings.now ?? (() => new Date());
  }

  /** Starts the hourly runs (the first ran in the provider's factory). */
  onApplicationBootstrap(): void {
    if (this.options.enabled) this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /**
   * One run at `now` (default: the clock's time): makes the partitions of
   * today and the days ahead, moves rows out of the default partition, drops
   * what is past retention. Throws what the database refused, except a lock
   * not granted in time, which postpones that step (see the report).
   */
  async maintain(now: Date = this.now()): Promise<LogMaintenanceReport> {
    const run = this.run(now);
    this.running = run;
    try {
      return await run;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.maintain()
        .catch((error: unknown) =>
          this.logger.warn(
            `Maintenance of the message log's partitions failed; the next run tries again: ${String(error)}`,
          ),
        )
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async run(now: Date): Promise<LogMaintenanceReport> {
    const report = {
      created: [] as string[],
      dropped: [] as string[],
      moved: 0,
      deleted: 0,
      postponed: [] as string[],
    };
    const existing = await this.partitions();
    const caught = await this.defaultDays();
    const today = dayOf(now);
    const lastAhead = addDays(today, this.daysAhead);
    for (const kind of LOGGED_KINDS) {
      const firstKept = firstKeptDay(now, this.options.retentionDays[kind]);
      const wanted = new Set<PartitionDay>();
      // Days ahead for the kinds this app writes: an app that logs queries
      // makes their partitions itself. Every kind's old days go, whoever wrote them.
      if (kind !== 'query' || this.options.queries) {
        for (let ahead = 0; ahead <= this.daysAhead; ahead++) {
          wanted.add(addDays(today, ahead));
        }
      }
      // Days the default partition caught rows of get theirs too, so those
      // rows go with their day; days further ahead wait until they come near.
      for (const day of caught.get(kind) ?? []) {
        if (day >= firstKept && day <= lastAhead) wanted.add(day);
      }
      for (const day of [...wanted].sort()) {
        if (existing.has(partitionName(kind, day))) continue;
        await this.step(report, `create ${partitionName(kind, day)}`, (tx) =>
          this.create(tx, kind, day, report),
        );
      }
      for (const name of existing) {
        const parsed = parsePartitionName(name, LOGGED_KINDS);
        if (parsed?.kind !== kind || parsed.day >= firstKept) continue;
        await this.step(report, `drop ${name}`, (tx) =>
          this.drop(tx, name, report),
        );
      }
      if ([...(caught.get(kind) ?? [])].some((day) => day < firstKept)) {
        await this.step(report, `delete old ${kind} rows`, (tx) =>
          this.deleteOld(tx, kind, firstKept, report),
        );
      }
    }
    this.tell(report);
    return report;
  }

  /** One step in its own transaction, after the runs on this schema before it. */
  private async step(
    report: { postponed: string[] },
    what: string,
    fn: (tx: SqlClient) => Promise<void>,
  ): Promise<void> {
    try {
      await this.client.transaction(async (tx) => {
        await tx.query(
          'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))',
          [PARTITIONS_LOCK, this.schema.name],
        );
        // A DROP waits for every query on the log, and the writers queue
        // behind it: better to leave the step to the next run.
        await tx.exec(`SET LOCAL lock_timeout = '${this.lockTimeoutMs}ms'`);
        await fn(tx);
      });
    } catch (error) {
      if (sqlStateOf(error) !== '55P03') throw error;
      report.postponed.push(what);
    }
  }

  /**
   * Makes one day's partition of one kind. PostgreSQL refuses to make a
   * partition whose rows sit in the default partition, so the table is made
   * on its own, the default's rows of that day move in, and it is attached,
   * all in one transaction; the default partition is locked first, so no row
   * of that day arrives there in between. Attaching locks the log itself
   * only against schema changes, not against writers.
   */
  private async create(
    tx: SqlClient,
    kind: LoggedKind,
    day: PartitionDay,
    report: { created: string[]; moved: number },
  ): Promise<void> {
    const name = partitionName(kind, day);
    const table = this.schema.table(name);
    const [found] = await tx.query<{ made: boolean }>(
      'SELECT to_regclass($1::text) IS NOT NULL AS made',
      [table],
    );
    if (found.made) return; // another instance made it meanwhile
    const from = startOf(day).toISOString();
    const to = startOf(addDays(day, 1)).toISOString();
    await tx.exec(`
      LOCK TABLE ${this.schema.table('message_log_default')} IN ACCESS EXCLUSIVE MODE;
      CREATE TABLE ${table} (LIKE ${this.schema.messageLog} INCLUDING DEFAULTS);
    `);
    const [moved] = await tx.query<{ moved: number }>(
      moveSql(this.schema, table),
      [kind, from, to],
    );
    await tx.exec(`
      ALTER TABLE ${this.schema.messageLog} ATTACH PARTITION ${table}
        FOR VALUES FROM ('${kind}', '${from}') TO ('${kind}', '${to}');
    `);
    report.created.push(name);
    report.moved += Number(moved.moved);
  }

  private async drop(
    tx: SqlClient,
    name: string,
    report: { dropped: string[] },
  ): Promise<void> {
    const table = this.schema.table(name);
    const [found] = await tx.query<{ made: boolean }>(
      'SELECT to_regclass($1::text) IS NOT NULL AS made',
      [table],
    );
    if (!found.made) return; // another instance dropped it meanwhile
    await tx.exec(`DROP TABLE ${table}`);
    report.dropped.push(name);
  }

  /**
   * The only DELETE of the log: rows the default partition caught for days
   * now past retention (the app was down, or a clock was wrong, when they
   * were written). No partition of theirs will ever exist to be dropped, and
   * the default partition holds a handful of rows, not days of traffic.
   */
  private async deleteOld(
    tx: SqlClient,
    kind: LoggedKind,
    firstKept: PartitionDay,
    report: { deleted: number },
  ): Promise<void> {
    const rows = await tx.query<{ deleted: number }>(
      `WITH gone AS (
         DELETE FROM ${this.schema.table('message_log_default')}
          WHERE kind = $1::text AND logged_at < $2::timestamptz
         RETURNING 1
       ) SELECT count(*)::int AS deleted FROM gone`,
      [kind, startOf(firstKept).toISOString()],
    );
    report.deleted += Number(rows[0].deleted);
  }

  private async partitions(): Promise<Set<string>> {
    const rows = await this.client.query<{ name: string }>(listSql, [
      this.schema.messageLog,
    ]);
    return new Set(rows.map((row) => row.name));
  }

  /** The days, per kind, of the rows in the default partition. */
  private async defaultDays(): Promise<Map<string, Set<PartitionDay>>> {
    const rows = await this.client.query<{ kind: string; day: string }>(
      this.schema.sql(defaultDaysSql),
    );
    const days = new Map<string, Set<PartitionDay>>();
    for (const row of rows) {
      let set = days.get(row.kind);
      if (!set) days.set(row.kind, (set = new Set()));
      set.add(row.day);
    }
    return days;
  }

  private tell(report: LogMaintenanceReport): void {
    // Partitions made ahead are routine, not news: only the rest is logged.
    if (report.dropped.length > 0) {
      this.logger.log(
        `Partitions past retention dropped: ${report.dropped.join(', ')}`,
      );
    }
    if (report.moved > 0) {
      this.logger.log(
        `${report.moved} rows moved from message_log_default into their day's partition`,
      );
    }
    if (report.deleted > 0) {
      this.logger.log(
        `${report.deleted} rows past retention deleted from message_log_default`,
      );
    }
    if (report.postponed.length > 0) {
      this.logger.warn(
        `A table lock was not granted within ${this.lockTimeoutMs} ms (a long query on message_log?); left to the next run: ${report.postponed.join('; ')}`,
      );
    }
  }
}
