import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { AsyncContext, EventBus } from '@nestjs/cqrs';
import {
  attachEnvelope,
  createEnvelope,
  MessageContext,
  payloadOf,
  unitOfWorkContext,
  type Envelope,
  type EnvelopeSource,
  type HandlingStart,
} from '../messages/index.js';
import {
  ConcurrencyError,
  EventStore,
  type AppendResult,
  type ExpectedVersion,
  type HandledCommand,
  type NewEvent,
  type SqlClient,
  type StoredEvent,
} from '../store/index.js';
import type { LoggedHandling } from '../message-log/index.js';
import {
  COMMAND_HANDLING_OPTIONS,
  type CommandHandlingOptions,
} from './command-handling.options.js';
import { asRecorded } from './recorded-result.js';
import { StreamLocks, type LockOwner } from './stream-locks.js';

interface PendingEvent {
  readonly instance: object;
  readonly envelope: NewEvent;
}

interface PendingAppend {
  readonly streamId: string;
  readonly expectedVersion: ExpectedVersion;
  readonly events: PendingEvent[];
}

/** A write that must commit with a command's events (a schedule, an outbox row...). */
export type EnlistedWrite = (tx: SqlClient) => Promise<void>;

/**
 * What one command handler loaded and wrote: appended together when it
 * returns. Its collections are made on first use: most commands stage one
 * stream or none, and a command that stages nothing should cost nothing.
 */
class Scope implements LockOwner {
  private appendsMade?: Map<string, PendingAppend>;
  private writesMade?: EnlistedWrite[];
  private committedMade?: (() => void)[];
  private failedMade?: ((error: unknown) => void)[];
  private loadedMade?: Map<string, Promise<object>>;
  private heldMade?: Set<string>;

  constructor(
    readonly parent: Scope | undefined,
    /** The message whose conversation it belongs to: the handling's, else the one running where it opened. */
    private readonly source: EnvelopeSource | undefined,
    /** The @nestjs/cqrs context the command was executed in, handed on to its events. */
    readonly asyncContext: AsyncContext | undefined,
    /** The handling to open with the unit of work (one frame for both), if any. */
    readonly handling: HandlingStart | undefined,
  ) {}

  /** Read when locks are compared, not on every command: a command's envelope is made when first read. */
  get correlationId(): string | undefined {
    return this.source?.envelope.metadata.correlationId;
  }

  get appends(): Map<string, PendingAppend> {
    return (this.appendsMade ??= new Map());
  }
  get writes(): EnlistedWrite[] {
    return (this.writesMade ??= []);
  }
  get committed(): (() => void)[] {
    return (this.committedMade ??= []);
  }
  get failed(): ((error: unknown) => void)[] {
    return (this.failedMade ??= []);
  }
  /** The identity map: each stream's aggregate, loaded once per unit of work. */
  get loaded(): Map<string, Promise<object>> {
    return (this.loadedMade ??= new Map());
  }
  get held(): Set<string> {
    return (this.heldMade ??= new Set());
  }

  /** Whether the handler staged no events and enlisted no writes. */
  get untouched(): boolean {
    return (
      (this.appendsMade === undefined || this.appendsMade.size === 0) &&
      (this.writesMade === undefined || this.writesMade.length === 0)
    );
  }
  get hasWrites(): boolean {
    return this.writesMade !== undefined && this.writesMade.length > 0;
  }
  get hasCommitted(): boolean {
    return this.committedMade !== undefined && this.committedMade.length > 0;
  }
  get hasFailed(): boolean {
    return this.failedMade !== undefined && this.failedMade.length > 0;
  }
  get holdsLocks(): boolean {
    return this.heldMade !== undefined && this.heldMade.size > 0;
  }
}

/** How long a command waits for an aggregate another command of this process holds, by default. */
const DEFAULT_LOCK_WAIT_MS = 10_000;

/**
 * Collects what a command handler appends and writes it in one transaction
 * when the handler returns, together with the command's record; only after
 * that commit are the events published to in-process `@EventsHandler`s.
 * Outside a command, appends are written (and then published) at once.
 *
 * It also keeps, per command, one instance of each aggregate it loads (an
 * identity map) and this process's lock on that aggregate's stream, so that
 * the process's commands on one aggregate take turns (see `StreamLocks`).
 */
@Injectable()
export class UnitOfWork {
  // In the frame of the message context: entered once per command, not twice.
  private readonly scopes = unitOfWorkContext<Scope>();
  private readonly logger = new Logger('Chronicle unit of work');
  private readonly locks = new StreamLocks();
  private readonly lockWaitMs: number;

  constructor(
    private readonly store: EventStore,
    private readonly eventBus: EventBus,
    @Optional()
    @Inject(COMMAND_HANDLING_OPTIONS)
    options: CommandHandlingOptions = {},
  ) {
    this.lockWaitMs = options.aggregateLockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  }

  /** Whether a command's unit of work is open in this async context. */
  get active(): boolean {
    return this.scopes.getStore() !== undefined;
  }

  /**
   * Whether the running unit of work has anything to commit: staged events,
   * enlisted writes, or after-commit callbacks. A schedule delivery whose
   * handler staged none needs no transaction of its own.
   */
  get staged(): boolean {
    const scope = this.scopes.getStore();
    if (!scope) return false;
    if (scope.hasWrites || scope.hasCommitted) return true;
    if (scope.untouched) return false;
    for (const append of scope.appends.values())
      if (append.events.length > 0) return true;
    return false;
  }

  /**
   * The unit of work's instance of the aggregate in `streamId`: the first call
   * takes this process's lock on the stream (held until the unit of work
   * commits or rolls back) and runs `load`; later calls in the same unit of
   * work get that same instance, with whatever it applied since. Outside a
   * command, `load` runs every time, without a lock.
   */
  async track<T extends object>(
    streamId: string,
    load: () => Promise<T>,
  ): Promise<T> {
    const scope = this.scopes.getStore();
    if (!scope) return load();
    let loading = scope.loaded.get(streamId);
    if (!loading) {
      loading = this.lock(scope, streamId)
        .then(load)
        .catch((error: unknown) => {
          scope.loaded.delete(streamId);
          throw error;
        });
      scope.loaded.set(streamId, loading);
    }
    return loading as Promise<T>;
  }

  /**
   * Appends event instances to a stream: staged while a command runs, else
   * written now. Envelopes take correlation and causation from the message being handled.
   */
  async append(
    streamId: string,
    events: readonly object[],
    expectedVersion: ExpectedVersion,
  ): Promise<void> {
    const pending = events.map((instance) => {
      const envelope = createEnvelope(instance, 'event');
      return {
        instance,
        envelope: { ...envelope, payload: payloadOf(envelope) },
      };
    });
    const scope = this.scopes.getStore();
    if (scope) {
      const staged = scope.appends.get(streamId);
      if (staged) {
        checkContinues(staged, expectedVersion);
        staged.events.push(...pending);
      } else
        scope.appends.set(streamId, {
          streamId,
          expectedVersion,
          events: pending,
        });
      return;
    }
    const appends = [{ streamId, expectedVersion, events: pending }];
    const results = await this.store.appendToStreams(this.toStore(appends));
    this.publish(appends, results);
  }

  /**
   * Makes `write` part of the running command's transaction: it runs right after
   * the events are appended, and commits or rolls back with them. Outside a
   * command it runs at once, in a transaction of its own.
   */
  async enlist(write: EnlistedWrite): Promise<void> {
    const scope = this.scopes.getStore();
    if (scope) scope.writes.push(write);
    else await this.store.transaction((_, tx) => write(tx));
  }

  /**
   * Calls `callback` once the running command's writes have committed, before
   * its events are published (at once outside a command). For caches and
   * background work: its errors are logged, never fail the command.
   */
  afterCommit(callback: () => void): void {
    const scope = this.scopes.getStore();
    if (scope) scope.committed.push(callback);
    else this.settle([callback], undefined);
  }

  /**
   * Calls `callback` with the error when the running command fails (its
   * handler threw, or its writes did not commit). Outside a command, nothing.
   */
  afterRollback(callback: (error: unknown) => void): void {
    this.scopes.getStore()?.failed.push(callback);
  }

  /**
   * Runs `work` in a new unit of work, then appends everything it staged in one
   * transaction (recording `handledCommand`'s result with it), then publishes.
   * With `handling`, `work` also runs as that handling (what
   * `MessageContext.run(envelope, work, handler)` around it would do, entered
   * once); commit, publishing and callbacks run outside it. With `resultOf`,
   * the result (returned and recorded) is what JSON makes of it (`asRecorded`),
   * for commands of that type. With `logged`, the handling's message log row
   * goes into the append, if there is one (then `logged.written`).
   */
  async run<R>(
    work: () => Promise<R>,
    handledCommand?: Omit<HandledCommand, 'result'>,
    asyncContext?: AsyncContext,
    handling?: HandlingStart,
    resultOf?: string,
    logged?: LoggedHandling,
  ): Promise<R> {
    const outer = handling ? undefined : MessageContext.current();
    const scope = new Scope(
      this.scopes.getStore(),
      handling ? handling.source : outer && { envelope: outer },
      asyncContext,
      handling,
    );
    try {
      // `work` is awaited here, not wrapped: one promise layer fewer per command.
      const done: R = await this.scopes.run(scope, work, scope.handling);
      const result =
        resultOf === undefined ? done : (asRecorded(done, resultOf) as R);
      // Nothing staged, nothing enlisted, nothing to record: nothing to write.
      if (scope.untouched && !handledCommand) return result;
      await this.commit(scope, result, handledCommand, logged);
      return result;
    } catch (error) {
      if (scope.hasFailed) this.settle(scope.failed, error);
      throw error;
    } finally {
      if (scope.holdsLocks) this.locks.release(scope);
    }
  }

  /** Takes the stream's lock for the unit of work, or goes on without it (logged) when it must not wait. */
  private async lock(scope: Scope, streamId: string): Promise<void> {
    if (this.lockWaitMs <= 0) return;
    const outcome = await this.locks.acquire(streamId, scope, this.lockWaitMs);
    if (outcome !== 'timedOut') return;
    this.logger.warn(
      `Waited ${this.lockWaitMs} ms for another command of this process to finish with "${streamId}"; ` +
        "going on without waiting more, the store's version check decides. " +
        'A handler that holds an aggregate this long (or awaits a command that needs it) should be split.',
    );
  }

  /** Appends what the handler staged, with its record and enlisted writes, then publishes. */
  private async commit<R>(
    scope: Scope,
    result: R,
    handledCommand?: Omit<HandledCommand, 'result'>,
    logged?: LoggedHandling,
  ): Promise<void> {
    const appends = [...scope.appends.values()].filter(
      (a) => a.events.length > 0,
    );
    const record = handledCommand && { ...handledCommand, result };
    if (!scope.hasWrites) {
      if (appends.length === 0 && !record) return;
      // The log row rides in the append: it commits with the events or not at all.
      const results = await this.store.appendToStreams(this.toStore(appends), {
        handledCommand: record,
        logRecord: logged?.rowFor(result),
      });
      if (logged) logged.written = true;
      if (scope.hasCommitted) this.settle(scope.committed, undefined);
      this.publish(appends, results, scope.asyncContext);
      return;
    }
    const carried = appends.length > 0 || record !== undefined;
    const results = await this.store.transaction(async (store, tx) => {
      // Events first: the events insert must be the transaction's first write.
      const appended = carried
        ? await store.appendToStreams(this.toStore(appends), {
            handledCommand: record,
            logRecord: logged?.rowFor(result),
          })
        : [];
      for (const write of scope.writes) await write(tx);
      return appended;
    });
    if (logged && carried) logged.written = true;
    if (scope.hasCommitted) this.settle(scope.committed, undefined);
    this.publish(appends, results, scope.asyncContext);
  }

  /** Calls commit or rollback callbacks; one failing never stops the others nor the command. */
  private settle(
    callbacks: readonly ((error: unknown) => void)[],
    error: unknown,
  ): void {
    for (const callback of callbacks) {
      try {
        callback(error);
      } catch (failure) {
        this.logger.error(
          `A unit-of-work callback failed: ${failure instanceof Error ? failure.message : String(failure)}`,
        );
      }
    }
  }

  private toStore(appends: readonly PendingAppend[]) {
    return appends.map((a) => ({
      streamId: a.streamId,
      expectedVersion: a.expectedVersion,
      events: a.events.map((e) => e.envelope),
    }));
  }

  /** Hands committed events to @nestjs/cqrs's EventBus, each as the context of what its handlers do. */
  private publish(
    appends: readonly PendingAppend[],
    results: readonly AppendResult[],
    asyncContext?: AsyncContext,
  ): void {
    const byStream = new Map(results.map((r) => [r.streamId, r]));
    for (const append of appends) {
      const result = byStream.get(append.streamId);
      if (!result) continue;
      const firstVersion =
        result.nextExpectedVersion - append.events.length + 1;
      append.events.forEach(({ instance, envelope }, i) => {
        const stored: StoredEvent<object> = {
          ...(envelope as Envelope<Record<string, unknown>>),
          payload: instance,
          streamId: append.streamId,
          streamVersion: firstVersion + i,
          position: result.positions[i],
          transactionId: result.transactionId,
        };
        attachEnvelope(instance, stored);
        // Request-scoped event handlers resolve in the command's context, as
        // with @nestjs/cqrs's EventPublisher; a context set by the handler stays.
        const context =
          asyncContext && !AsyncContext.isAttached(instance)
            ? asyncContext
            : undefined;
        MessageContext.run(
          stored,
          () =>
            context
              ? this.eventBus.publish(instance, context)
              : this.eventBus.publish(instance),
          'events-handler',
        );
      });
    }
  }
}

/**
 * Refuses a second append to a stream in one unit of work that does not
 * continue the first (a second instance of the aggregate, loaded outside the
 * repository's identity map): merged, it would commit a decision taken on
 * state that did not include the first's events.
 */
function checkContinues(
  staged: PendingAppend,
  expectedVersion: ExpectedVersion,
): void {
  const base =
    staged.expectedVersion === 'noStream' ? 0 : staged.expectedVersion;
  if (typeof base !== 'number') return;
  const expected = expectedVersion === 'noStream' ? 0 : expectedVersion;
  if (typeof expected !== 'number') return;
  const next = base + staged.events.length;
  if (expected !== next) {
    throw new ConcurrencyError(staged.streamId, expectedVersion, next);
  }
}
