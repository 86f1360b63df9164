import { StatementBatches } from '../../batching/index.js';
import type { HandledCommand } from '../event-store.js';
import { findHandledCommand, findHandledCommands } from './handled-commands.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

/** Lookups per statement: a bound on the statement's size, not on waiting. */
const MAX_LOOKUPS = 500;

interface Lookup {
  readonly id: string;
  resolve(found: HandledCommand | undefined): void;
  reject(error: unknown): void;
}

/**
 * Looks command records up, coalescing concurrent lookups: while one lookup
 * statement is in flight, the next ones queue, and when it returns they all go
 * as one statement (`StatementBatches`). No timer: an idle store looks up at
 * once, so a lone command waits for nothing; under load, 64 commands arriving
 * together cost one or two round trips instead of 64. A lookup still reads
 * after it was asked, so it sees every record committed before.
 *
 * Only lookups outside a transaction coalesce: one inside a transaction must
 * see that transaction's own writes (and on PGlite, a consumer's open batch
 * transaction holds the one session), so it runs on its own there.
 */
export class CommandLookups {
  private readonly batches = new StatementBatches<Lookup>(
    (batch) => this.lookUp(batch),
    MAX_LOOKUPS,
  );

  constructor(
    private readonly client: SqlClient,
    private readonly schema: StoreSchema,
  ) {}

  find(id: string): Promise<HandledCommand | undefined> {
    if (this.client.inTransaction || this.client.joinsOpenTransaction) {
      return findHandledCommand(this.client, this.schema, id);
    }
    return new Promise((resolve, reject) =>
      this.batches.add({ id, resolve, reject }),
    );
  }

  private async lookUp(batch: readonly Lookup[]): Promise<void> {
    try {
      const ids = [...new Set(batch.map((lookup) => lookup.id))];
      // One id keeps the plain statement, prepared once per connection.
      const found =
        ids.length === 1
          ? await this.findOne(ids[0])
          : await findHandledCommands(this.client, this.schema, ids);
      for (const lookup of batch) lookup.resolve(found.get(lookup.id));
    } catch (error) {
      // The statement failed (a lost connection): every lookup in it did.
      for (const lookup of batch) lookup.reject(error);
    }
  }

  private async findOne(id: string): Promise<Map<string, HandledCommand>> {
    const found = await findHandledCommand(this.client, this.schema, id);
    return new Map(found ? [[id, found]] : []);
  }
}
