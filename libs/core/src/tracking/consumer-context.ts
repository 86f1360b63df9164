import type { EntityManager } from 'typeorm';
import type { SendOptions } from '../handling/index.js';
import type { ScheduleOptions, ScheduleTime } from '../scheduling/index.js';
import {
  ambientTransaction,
  type AmbientTransaction,
  type SqlClient,
} from '../store/index.js';
import {
  ConsumerDefinitionError,
  EntityManagerUnavailableError,
} from './tracking.errors.js';
import type { OpenTransaction, TransactionOpener } from './open-transaction.js';

/**
 * The third argument of every `@HandleEvent` method (and the argument of
 * `@OnReset` hooks). Asking for the transaction makes the handler's writes
 * commit together with the consumer's position: exactly-once. Handlers that
 * never ask get at-least-once delivery.
 */
export interface ConsumerContext {
  readonly consumer: string;
  /** The segment being handled; -1 in an `@OnReset` hook. */
  readonly segment: number;
  /**
   * True while a new version of the consumer is rebuilt beside the live one
   * (blue-green) and this event is history the live version has handled
   * already: what it sent then must not be sent again. `send` and `schedule`
   * below hold back on their own; check this before any other side effect.
   */
  readonly replaying: boolean;
  /** The transaction the position commits in, as a `SqlClient` (opened on the first call). */
  sql(): Promise<SqlClient>;
  /**
   * A TypeORM `EntityManager` bound to that same transaction, when the app
   * uses @nestjs/typeorm on Chronicle's PostgreSQL database.
   */
  entityManager(): Promise<EntityManager>;
  /**
   * Sends a command (as `MessageGateway.send`, with an id derived from this
   * event), unless `replaying`: then nothing is sent and it resolves to
   * undefined.
   */
  send(command: object, options?: SendOptions): Promise<unknown>;
  /**
   * Schedules a message (as `Scheduler.schedule`), unless `replaying`: then
   * nothing is scheduled and it resolves to undefined.
   */
  schedule(
    message: object,
    when: ScheduleTime,
    options?: ScheduleOptions,
  ): Promise<string | undefined>;
}

/** What a consumer's context sends and schedules through (the app's gateway and scheduler). */
export interface ContextSending {
  send(command: object, options?: SendOptions): Promise<unknown>;
  schedule(
    message: object,
    when: ScheduleTime,
    options?: ScheduleOptions,
  ): Promise<string>;
}

const SAVEPOINT = 'chronicle_event';

/**
 * The transaction of one batch, opened only when a handler first asks for it.
 * Savepoints around each event let one event's failure be undone alone. It is
 * the ambient transaction of the handlers it runs: on the embedded database,
 * their reads through the store join it rather than wait for it.
 */
export class BatchTransaction implements AmbientTransaction {
  private open?: Promise<OpenTransaction>;
  private opened?: OpenTransaction;
  /** Set a savepoint right after opening, when an event is being tried. */
  private savepointOnOpen = false;
  private ended = false;
  private handlerContext?: ConsumerContext;
  /** Whether the event in hand is history a rebuild must not act on again (see ConsumerContext). */
  replaying = false;

  constructor(
    private readonly opener: TransactionOpener,
    readonly consumer: string,
    /** Why no EntityManager can be had, when none can. */
    private readonly noEntityManager?: string,
    private readonly sending?: ContextSending,
  ) {}

  get isOpen(): boolean {
    return this.opened !== undefined;
  }

  /** The open transaction's client, once a handler opened it. */
  get current(): SqlClient | undefined {
    return this.ended ? undefined : this.opened?.sql;
  }

  get session(): object | undefined {
    return this.opened?.session;
  }

  /** The open transaction, opening it now if needed. */
  async transaction(): Promise<OpenTransaction> {
    this.open ??= this.opener().then(async (tx) => {
      this.opened = tx;
      if (this.savepointOnOpen) await tx.sql.query(`SAVEPOINT ${SAVEPOINT}`);
      return tx;
    });
    return this.open;
  }

  /** The handlers' context, one per batch: every event of it shares the transaction. */
  context(segment: number): ConsumerContext {
    if (this.handlerContext?.segment === segment) return this.handlerContext;
    const isReplaying = () => this.replaying;
    this.handlerContext = {
      consumer: this.consumer,
      segment,
      // A getter: one context serves the whole batch, event after event.
      get replaying() {
        return isReplaying();
      },
      send: async (command, options) => {
        if (this.replaying) return undefined;
        return this.sender().send(command, options);
      },
      schedule: async (message, when, options) => {
        if (this.replaying) return undefined;
        return this.sender().schedule(message, when, options);
      },
      sql: async () => (await this.transaction()).sql,
      entityManager: async () => {
        if (this.noEntityManager) {
          throw new EntityManagerUnavailableError(
            this.consumer,
            this.noEntityManager,
          );
        }
        const manager = (await this.transaction()).entityManager;
        if (!manager) {
          throw new EntityManagerUnavailableError(
            this.consumer,
            'its transaction is not on a TypeORM DataSource',
          );
        }
        return manager;
      },
    };
    return this.handlerContext;
  }

  private sender(): ContextSending {
    if (!this.sending) {
      throw new ConsumerDefinitionError(
        `Consumer "${this.consumer}" sent or scheduled through its context, but this process has no command gateway or scheduler: import ChronicleModule.forRoot in the app.`,
      );
    }
    return this.sending;
  }

  /** Marks the start of one event's attempt. */
  async beginEvent(): Promise<void> {
    this.savepointOnOpen = true;
    if (this.opened) await this.opened.sql.query(`SAVEPOINT ${SAVEPOINT}`);
  }

  /** The attempt succeeded: keep its writes. */
  async endEvent(): Promise<void> {
    this.savepointOnOpen = false;
    if (this.opened)
      await this.opened.sql.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
  }

  /** The attempt failed: undo its writes, keep the batch's earlier ones. */
  async undoEvent(): Promise<void> {
    this.savepointOnOpen = false;
    if (!this.opened) return;
    await this.opened.sql.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    await this.opened.sql.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
  }

  async commit(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.opened) await this.opened.commit();
  }

  /** Safe to call more than once, and after a commit (then it does nothing). */
  async rollback(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.open) await (await this.open.catch(() => undefined))?.rollback();
  }
}

/**
 * The transaction of the consumer batch running in this async context
 * (opened now if no handler opened it yet), when called from a `@HandleEvent`
 * method or an `@OnReset` hook; else undefined. What lets other parts write
 * in the batch, as `context.sql()` would, without being handed the context.
 */
export async function consumerTransaction(): Promise<SqlClient | undefined> {
  const ambient = ambientTransaction();
  if (!(ambient instanceof BatchTransaction)) return undefined;
  return (await ambient.transaction()).sql;
}

/**
 * The consumer batch running in this async context, if any: its consumer's
 * name and whether the event in hand is history a new version rebuilds
 * beside the live one (see `ConsumerContext.replaying`).
 */
export function consumerBatch():
  { readonly consumer: string; readonly replaying: boolean } | undefined {
  const ambient = ambientTransaction();
  return ambient instanceof BatchTransaction ? ambient : undefined;
}
