import { Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  isConnectionFailure,
  LOG_COLUMNS,
  logValues,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';
import type { Telemetry } from '../telemetry/index.js';
import { toLogRecord, type LogEntry } from './log-entry.js';
import type { ResolvedMessageLogOptions } from './message-log.options.js';

const insertSql = (s: StoreSchema) => `
  INSERT INTO ${s.messageLog} (${LOG_COLUMNS}, positions)
  SELECT ${logValues('r')}, r.positions
  FROM json_array_elements($1::text::json) AS l(row)
  CROSS JOIN LATERAL json_populate_record(NULL::${s.messageLog}, l.row) r`;

/** How often an overflow or a failed write is logged at most. */
const WARN_EVERY_MS = 10_000;

/**
 * Writes log entries behind the handlers that made them: a bounded buffer,
 * emptied in batches of one INSERT each, one batch at a time. `record` never
 * waits and never throws: when the buffer is full the entry is dropped,
 * counted (`chronicle_message_log_dropped_total`) and logged at a bounded
 * rate. A batch the database is away for is kept and tried again; one it
 * refuses is dropped and counted. Entries made with a command's events do not
 * come here: they are written in the append (see `AppendOptions.logRecord`).
 */
export class MessageLogWriter implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Chronicle message log');
  private buffer: LogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private lastWarning = 0;
  private unwarned = 0;

  constructor(
    private readonly client: SqlClient,
    private readonly schema: StoreSchema,
    readonly options: ResolvedMessageLogOptions,
    private readonly telemetry?: Telemetry,
  ) {}

  /** Entries waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Queues an entry; never blocks, never throws. */
  record(entry: LogEntry): void {
    if (!this.options.enabled) return;
    if (this.buffer.length >= this.options.bufferSize) {
      this.lost(entry.kind, 'overflow', 1);
      return;
    }
    this.buffer.push(entry);
    if (this.buffer.length >= this.options.batchSize) this.flushSoon(0);
    else this.flushSoon(this.options.flushIntervalMs);
  }

  /** Writes everything queued so far (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.buffer.length > 0 || this.flushing) {
      if (this.flushing) await this.flushing;
      else await this.writeNext();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      await this.flush();
    } catch (error) {
      this.logger.error(
        `Could not write ${this.buffer.length} message log entries before shutdown: ${String(error)}`,
      );
    }
  }

  private flushSoon(delayMs: number): void {
    if (this.flushing || this.closed) return;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeNext();
    }, delayMs);
    this.timer.unref();
  }

  private writeNext(): Promise<void> {
    if (this.flushing) return this.flushing;
    const batch = this.buffer.splice(0, this.options.batchSize);
    if (batch.length === 0) return Promise.resolve();
    this.flushing = this.write(batch).finally(() => {
      this.flushing = undefined;
      if (this.buffer.length > 0 && !this.closed) {
        this.flushSoon(
          this.buffer.length >= this.options.batchSize
            ? 0
            : this.options.flushIntervalMs,
        );
      }
    });
    return this.flushing;
  }

  private async write(batch: LogEntry[]): Promise<void> {
    let json: string;
    try {
      json = `[${batch.map((entry) => recordJson(entry)).join(',')}]`;
    } catch (error) {
      this.lost(batch[0].kind, 'failed', batch.length, error);
      return;
    }
    try {
      await this.client.query(this.schema.sql(insertSql), [json], {
        prepare: true,
      });
      const metrics = this.telemetry?.metrics;
      if (metrics) {
        for (const entry of batch)
          metrics.messageLogWritten.inc({ kind: entry.kind });
      }
    } catch (error) {
      if (isConnectionFailure(error) && !this.closed) {
        // Kept (within the bound) for the next try, after a pause.
        const room = this.options.bufferSize - this.buffer.length;
        this.buffer.unshift(...batch.slice(0, Math.max(0, room)));
        if (batch.length > room)
          this.lost(batch[0].kind, 'overflow', batch.length - room);
        this.warn(
          `The database is away; ${this.buffer.length} message log entries wait: ${String(error)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
        return;
      }
      this.lost(batch[0].kind, 'failed', batch.length, error);
    }
  }

  private lost(
    kind: LogEntry['kind'],
    reason: 'overflow' | 'failed',
    count: number,
    error?: unknown,
  ): void {
    this.telemetry?.metrics?.messageLogDropped.inc({ kind, reason }, count);
    this.unwarned += count;
    this.warn(
      reason === 'overflow'
        ? `The message log's buffer is full (${this.options.bufferSize} entries): ${this.unwarned} entries dropped since the last warning. Raise messageLog.buffer.size, or look at why the database is slow.`
        : `The database refused ${count} message log entries; they are dropped: ${String(error)}`,
    );
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.unwarned = 0;
    this.logger.warn(message);
  }
}

/** An entry as JSON; a NUL the database cannot store costs the entry its payload and result, not its row. */
function recordJson(entry: LogEntry): string {
  const record = toLogRecord(entry);
  const json = JSON.stringify(record);
  return json.includes('\\u0000')
    ? JSON.stringify({ ...record, payload: null, result: null })
    : json;
}
