import { checkId, checkStreamId } from '../../messages/index.js';
import type { AppendSignal } from '../append-signal.js';
import {
  EventStore,
  type AppendOptions,
  type AppendResult,
  type Checkpoint,
  type ExpectedVersion,
  type HandledCommand,
  type NewEvent,
  type ReadAllBatch,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type StreamAppend,
} from '../event-store.js';
import { appendToStreams, type AppendState } from './append-to-streams.js';
import { findHandledCommand } from './handled-commands.js';
import { MIGRATIONS, migrate } from './migrations/index.js';
import { headCheckpoint, readAll } from './read-all.js';
import { StreamRead, streamVersion } from './read-stream.js';
import {
  rebaseTransactionIds,
  type RebaseReport,
} from './rebase-transaction-ids.js';
import type { SqlClient } from './sql-client.js';
import { StoreSchema } from './store-schema.js';
import { checkTransactionIds } from './transaction-ids.js';

/** The event store on PostgreSQL (node-postgres or PGlite: the same SQL). */
export class PostgresEventStore extends EventStore {
  readonly schema: StoreSchema;

  /** The event types this store, bound to a transaction, appended in it. */
  private readonly typesInTransaction = new Set<string>();
  /** What this store, bound to a transaction, did in it (see append-to-streams.ts). */
  private readonly appendState: AppendState = { appendedBefore: false };

  constructor(
    readonly client: SqlClient,
    schema: string | StoreSchema = 'chronicle',
    /** Signalled after each commit that appended events. */
    readonly signal?: AppendSignal,
  ) {
    super();
    this.schema = typeof schema === 'string' ? new StoreSchema(schema) : schema;
  }

  /**
   * Runs the schema's pending migrations (safe to call from many processes at
   * once), then checks that the stored transaction ids are below the
   * database's counter: `TransactionIdsAheadError` if the store was moved
   * from another cluster and needs a re-base (`npx chronicle rebase`).
   */
  async migrate(): Promise<number[]> {
    const applied = await migrate(this.client, this.schema, MIGRATIONS);
    await checkTransactionIds(this.client, this.schema);
    return applied;
  }

  /**
   * Rewrites the stored transaction ids below the database's counter, keeping
   * the log's order and every consumer's place in it. Only with every app on
   * this store stopped; see "Moving a store to another database" in the guide.
   */
  rebaseTransactionIds(options?: { force?: boolean }): Promise<RebaseReport> {
    return rebaseTransactionIds(this.client, this.schema, options);
  }

  /**
   * The same store bound to one transaction: its appends commit with whatever
   * else `fn` writes through `tx`, or not at all.
   */
  async transaction<T>(
    fn: (store: PostgresEventStore, tx: SqlClient) => Promise<T>,
  ): Promise<T> {
    if (this.client.inTransaction) return fn(this, this.client);
    let bound: PostgresEventStore | undefined;
    const result = await this.client.transaction((tx) => {
      bound = new PostgresEventStore(tx, this.schema, this.signal);
      return fn(bound, tx);
    });
    if (bound && bound.typesInTransaction.size > 0) {
      this.signal?.notify([...bound.typesInTransaction]);
    }
    return result;
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion?: ExpectedVersion } = {},
  ): Promise<AppendResult> {
    const [result] = await this.appendToStreams([
      { streamId, events, expectedVersion: options.expectedVersion ?? 'any' },
    ]);
    return result;
  }

  async appendToStreams(
    appends: readonly StreamAppend[],
    options?: AppendOptions,
  ): Promise<AppendResult[]> {
    const results = await appendToStreams(
      this.client,
      this.schema,
      appends,
      options,
      this.appendState,
    );
    const types = appendedTypes(appends, results);
    if (types.size > 0) {
      // In a transaction, nothing is visible until it commits: signal then.
      if (this.client.inTransaction) {
        for (const type of types) this.typesInTransaction.add(type);
      } else this.signal?.notify([...types]);
    }
    return results;
  }

  readStream(
    streamId: string,
    options?: ReadStreamOptions,
  ): AsyncIterable<StoredEvent> {
    checkStreamId(streamId);
    return new StreamRead(this.client, this.schema, streamId, options);
  }

  async streamVersion(streamId: string): Promise<number> {
    checkStreamId(streamId);
    return streamVersion(this.client, this.schema, streamId);
  }

  readAll(options?: ReadAllOptions): Promise<ReadAllBatch> {
    return readAll(this.client, this.schema, options);
  }

  headCheckpoint(): Promise<Checkpoint> {
    return headCheckpoint(this.client, this.schema);
  }

  async findHandledCommand(id: string): Promise<HandledCommand | undefined> {
    checkId(id, 'command id');
    return findHandledCommand(this.client, this.schema, id);
  }
}

/** The types of the events actually written (an idempotent repeat writes none). */
function appendedTypes(
  appends: readonly StreamAppend[],
  results: readonly AppendResult[],
): Set<string> {
  const types = new Set<string>();
  appends.forEach((append, i) => {
    if ((results[i]?.positions.length ?? 0) === 0) return;
    for (const event of append.events) types.add(event.type);
  });
  return types;
}
