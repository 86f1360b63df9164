import type { HandledCommand } from '../event-store.js';
import { findHandledCommand, findHandledCommands } from './handled-commands.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

/** Ids per statement: a bound on the statement's size, not on waiting. */
const MAX_IDS = 500;

interface Waiter {
  resolve(found: HandledCommand | undefined): void;
  reject(error: unknown): void;
}

/**
 * Looks command records up, coalescing concurrent lookups: while one lookup
 * statement is in flight, the next ones queue, and when it returns they all go
 * as one statement. No timer: an idle store looks up at once, so a lone
 * command waits for nothing; under load, 64 commands arriving together cost
 * one or two round trips instead of 64. A lookup still reads after it was
 * asked, so it sees every record committed before.
 *
 * Only lookups outside a transaction coalesce: one inside a transaction must
 * see that transaction's own writes (and on PGlite, a consumer's open batch
 * transaction holds the one session), so it runs on its own there.
 */
export class CommandLookups {
  private queued = new Map<string, Waiter[]>();
  private flushing = false;

  constructor(
    private readonly client: SqlClient,
    private readonly schema: StoreSchema,
  ) {}

  find(id: string): Promise<HandledCommand | undefined> {
    if (this.client.inTransaction || this.client.joinsOpenTransaction) {
      return findHandledCommand(this.client, this.schema, id);
    }
    return new Promise((resolve, reject) => {
      const waiters = this.queued.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.queued.set(id, [{ resolve, reject }]);
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queued.size > 0) {
        const batch = this.take();
        try {
          const ids = [...batch.keys()];
          // One id keeps the plain statement, prepared once per connection.
          const found =
            ids.length === 1
              ? await this.findOne(ids[0])
              : await findHandledCommands(this.client, this.schema, ids);
          for (const [id, waiters] of batch) {
            for (const waiter of waiters) waiter.resolve(found.get(id));
          }
        } catch (error) {
          // The statement failed (a lost connection): every lookup in it did.
          for (const waiters of batch.values()) {
            for (const waiter of waiters) waiter.reject(error);
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async findOne(id: string): Promise<Map<string, HandledCommand>> {
    const found = await findHandledCommand(this.client, this.schema, id);
    return new Map(found ? [[id, found]] : []);
  }

  /** The next statement's lookups: all queued, up to MAX_IDS ids. */
  private take(): Map<string, Waiter[]> {
    if (this.queued.size <= MAX_IDS) {
      const all = this.queued;
      this.queued = new Map();
      return all;
    }
    const batch = new Map<string, Waiter[]>();
    for (const [id, waiters] of this.queued) {
      if (batch.size >= MAX_IDS) break;
      batch.set(id, waiters);
      this.queued.delete(id);
    }
    return batch;
  }
}
