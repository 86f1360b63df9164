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
import { appendToStreams } from './append-to-streams.js';
import { findHandledCommand } from './handled-commands.js';
import { MIGRATIONS, migrate } from './migrations/index.js';
import { headCheckpoint, readAll } from './read-all.js';
import { readStream, streamVersion } from './read-stream.js';
import type { SqlClient } from './sql-client.js';
import { StoreSchema } from './store-schema.js';

/** The event store on PostgreSQL (node-postgres or PGlite: the same SQL). */
export class PostgresEventStore extends EventStore {
  readonly schema: StoreSchema;

  constructor(
    readonly client: SqlClient,
    schema: string | StoreSchema = 'chronicle',
  ) {
    super();
    this.schema = typeof schema === 'string' ? new StoreSchema(schema) : schema;
  }

  /** Runs the schema's pending migrations; safe to call from many processes at once. */
  migrate(): Promise<number[]> {
    return migrate(this.client, this.schema, MIGRATIONS);
  }

  /**
   * The same store bound to one transaction: its appends commit with whatever
   * else `fn` writes through `tx`, or not at all.
   */
  transaction<T>(
    fn: (store: PostgresEventStore, tx: SqlClient) => Promise<T>,
  ): Promise<T> {
    return this.client.transaction((tx) =>
      fn(new PostgresEventStore(tx, this.schema), tx),
    );
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

  appendToStreams(
    appends: readonly StreamAppend[],
    options?: AppendOptions,
  ): Promise<AppendResult[]> {
    return appendToStreams(this.client, this.schema, appends, options);
  }

  readStream(
    streamId: string,
    options?: ReadStreamOptions,
  ): AsyncIterable<StoredEvent> {
    return readStream(this.client, this.schema, streamId, options);
  }

  streamVersion(streamId: string): Promise<number> {
    return streamVersion(this.client, this.schema, streamId);
  }

  readAll(options?: ReadAllOptions): Promise<ReadAllBatch> {
    return readAll(this.client, this.schema, options);
  }

  headCheckpoint(): Promise<Checkpoint> {
    return headCheckpoint(this.client, this.schema);
  }

  findHandledCommand(id: string): Promise<HandledCommand | undefined> {
    return findHandledCommand(this.client, this.schema, id);
  }
}
