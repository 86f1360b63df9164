import { SpanKind } from '@opentelemetry/api';
import { checkId, checkStreamId } from '../../messages/index.js';
import { ATTR, inSpan, Telemetry } from '../../telemetry/index.js';
import type { AppendSignal } from '../append-signal.js';
import type { PayloadCipher } from '../payload-cipher.js';
import { ConcurrencyError } from '../concurrency.error.js';
import {
  EventStore,
  type AppendOptions,
  type AppendResult,
  type Checkpoint,
  type LogHead,
  type ExpectedVersion,
  type HandledCommand,
  type NewEvent,
  type ReadAllBatch,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type StreamAppend,
} from '../event-store.js';
import {
  appendedTypes,
  appendToStreams,
  prepareAppend,
  type AppendState,
} from './append-to-streams.js';
import { CommandLookups } from './command-lookups.js';
import { CommandAlreadyHandledError } from '../store.errors.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import { MIGRATIONS, migrate } from './migrations/index.js';
import { headCheckpoint, logHead, readAll } from './read-all.js';
import { StreamRead, streamVersion } from './read-stream.js';
import {
  rebaseTransactionIds,
  type RebaseReport,
} from './rebase-transaction-ids.js';
import type { SqlClient } from './sql-client.js';
import { StoreSchema } from './store-schema.js';
import { checkTransactionIds } from './transaction-ids.js';

/** Span attribute: how many streams one unit of work appended to. */
const STREAMS = 'chronicle.streams.count';

/** How a `PostgresEventStore` writes. */
export interface PostgresEventStoreOptions {
  /**
   * Coalesce the appends of concurrent units of work outside transactions
   * into one statement while another is in flight (see group-commit.ts).
   * Default true; `false` sends one statement per unit of work.
   */
  readonly groupCommit?: boolean | GroupCommitOptions;
  /** Metrics of appends (`ChronicleModule` passes its own). Default: off. */
  readonly telemetry?: Telemetry;
  /**
   * Seals parts of payloads on append and opens them on read (personal data,
   * see security/personal-data). Default: none, payloads are stored as given.
   */
  readonly cipher?: PayloadCipher;
}

/** How a unit of work's append ended, for `chronicle_appends_total`. */
function appendOutcome(error: unknown): 'conflict' | 'duplicate' | 'failed' {
  if (error instanceof ConcurrencyError) return 'conflict';
  if (error instanceof CommandAlreadyHandledError) return 'duplicate';
  return 'failed';
}

/** The event store on PostgreSQL (node-postgres or PGlite: the same SQL). */
export class PostgresEventStore extends EventStore {
  readonly schema: StoreSchema;
  /** Coalesces appends outside transactions; undefined when turned off or bound to a transaction. */
  readonly groupCommit: GroupCommit | undefined;

  /** The event types this store, bound to a transaction, appended in it. */
  private readonly typesInTransaction = new Set<string>();
  /** What this store, bound to a transaction, did in it (see append-to-streams.ts). */
  private readonly appendState: AppendState = { appendedBefore: false };
  /** Concurrent lookups of command records share a statement. */
  private readonly commandLookups: CommandLookups;
  private readonly telemetry: Telemetry;
  private readonly cipher: PayloadCipher | undefined;

  constructor(
    readonly client: SqlClient,
    schema: string | StoreSchema = 'chronicle',
    /** Signalled after each commit that appended events. */
    readonly signal?: AppendSignal,
    options: PostgresEventStoreOptions = {},
  ) {
    super();
    this.schema = typeof schema === 'string' ? new StoreSchema(schema) : schema;
    this.commandLookups = new CommandLookups(client, this.schema);
    this.telemetry = options.telemetry ?? Telemetry.off;
    this.cipher = options.cipher;
    const group = options.groupCommit ?? true;
    this.groupCommit =
      group === false || client.inTransaction
        ? undefined
        : new GroupCommit(
            client,
            this.schema,
            group === true ? {} : group,
            signal,
            this.telemetry.metrics,
          );
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
      bound = new PostgresEventStore(tx, this.schema, this.signal, {
        telemetry: this.telemetry,
        cipher: this.cipher,
      });
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

  /** One unit of work: a span `append`, and its outcome counted. */
  appendToStreams(
    appends: readonly StreamAppend[],
    options?: AppendOptions,
  ): Promise<AppendResult[]> {
    let events = 0;
    for (const append of appends) events += append.events.length;
    const attributes = {
      [ATTR.dbSystem]: 'postgresql',
      [ATTR.dbOperation]: 'append',
      [ATTR.eventsAppended]: events,
      [STREAMS]: appends.length,
      ...(appends.length === 1 ? { [ATTR.streamId]: appends[0].streamId } : {}),
    };
    const metrics = this.telemetry.metrics;
    return inSpan('append', { kind: SpanKind.CLIENT, attributes }, async () => {
      try {
        const results = await this.appendUnit(appends, options);
        metrics?.appended('ok');
        return results;
      } catch (error) {
        metrics?.appended(appendOutcome(error));
        throw error;
      }
    });
  }

  private async appendUnit(
    given: readonly StreamAppend[],
    options?: AppendOptions,
  ): Promise<AppendResult[]> {
    let appends = given;
    let state = this.appendState;
    if (this.cipher) {
      const sealing = this.cipher.seal(given, this.client);
      const sealed = sealing instanceof Promise ? await sealing : sealing;
      appends = sealed.appends;
      // PGlite runs one transaction at a time, so a key written just before
      // in the same transaction cannot put the events out of commit order.
      // A store bound to that transaction remembers it; one that joined it
      // (not bound) knows it for this append only.
      if (sealed.wroteInTransaction) {
        if (this.client.inTransaction) this.appendState.appendedBefore = true;
        else state = { appendedBefore: true };
      }
    }
    // A statement that joins a transaction opened elsewhere (PGlite) belongs
    // to that transaction alone: it must not carry other units' writes.
    if (this.groupCommit && this.client.joinsOpenTransaction !== true) {
      // Signals once per statement, for all its units.
      return this.groupCommit.submit(prepareAppend(appends, options));
    }
    const results = await appendToStreams(
      this.client,
      this.schema,
      appends,
      options,
      state,
      this.telemetry.metrics,
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
    return new StreamRead(
      this.client,
      this.schema,
      streamId,
      options,
      this.cipher,
    );
  }

  async streamVersion(streamId: string): Promise<number> {
    checkStreamId(streamId);
    return streamVersion(this.client, this.schema, streamId);
  }

  readAll(options?: ReadAllOptions): Promise<ReadAllBatch> {
    return readAll(this.client, this.schema, options, this.cipher);
  }

  headCheckpoint(): Promise<Checkpoint> {
    return headCheckpoint(this.client, this.schema);
  }

  logHead(): Promise<LogHead> {
    return logHead(this.client, this.schema);
  }

  async findHandledCommand(id: string): Promise<HandledCommand | undefined> {
    checkId(id, 'command id');
    return this.commandLookups.find(id);
  }
}
