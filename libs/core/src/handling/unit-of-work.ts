import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, Logger } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import {
  attachEnvelope,
  createEnvelope,
  MessageContext,
  payloadOf,
  type Envelope,
} from '../messages/index.js';
import {
  EventStore,
  type AppendResult,
  type ExpectedVersion,
  type HandledCommand,
  type NewEvent,
  type SqlClient,
  type StoredEvent,
} from '../store/index.js';

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

/** What one command handler wrote: appended together when it returns. */
class Scope {
  readonly appends = new Map<string, PendingAppend>();
  readonly writes: EnlistedWrite[] = [];
  readonly committed: (() => void)[] = [];
  readonly failed: ((error: unknown) => void)[] = [];
}

/**
 * Collects what a command handler appends and writes it in one transaction
 * when the handler returns, together with the command's record; only after
 * that commit are the events published to in-process `@EventsHandler`s.
 * Outside a command, appends are written (and then published) at once.
 */
@Injectable()
export class UnitOfWork {
  private readonly scopes = new AsyncLocalStorage<Scope>();
  private readonly logger = new Logger('Chronicle unit of work');

  constructor(
    private readonly store: EventStore,
    private readonly eventBus: EventBus,
  ) {}

  /** Whether a command's unit of work is open in this async context. */
  get active(): boolean {
    return this.scopes.getStore() !== undefined;
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
      if (staged) staged.events.push(...pending);
      else
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
   */
  async run<R>(
    work: () => Promise<R>,
    handledCommand?: Omit<HandledCommand, 'result'>,
  ): Promise<R> {
    const scope = new Scope();
    try {
      return await this.commit(scope, work, handledCommand);
    } catch (error) {
      this.settle(scope.failed, error);
      throw error;
    }
  }

  private async commit<R>(
    scope: Scope,
    work: () => Promise<R>,
    handledCommand?: Omit<HandledCommand, 'result'>,
  ): Promise<R> {
    const result = await this.scopes.run(scope, work);
    const appends = [...scope.appends.values()].filter(
      (a) => a.events.length > 0,
    );
    const record = handledCommand && { ...handledCommand, result };
    if (scope.writes.length === 0) {
      if (appends.length === 0 && !record) return result;
      const results = await this.store.appendToStreams(this.toStore(appends), {
        handledCommand: record,
      });
      this.settle(scope.committed, undefined);
      this.publish(appends, results);
      return result;
    }
    const results = await this.store.transaction(async (store, tx) => {
      // Events first: the events insert must be the transaction's first write.
      const appended =
        appends.length > 0 || record
          ? await store.appendToStreams(this.toStore(appends), {
              handledCommand: record,
            })
          : [];
      for (const write of scope.writes) await write(tx);
      return appended;
    });
    this.settle(scope.committed, undefined);
    this.publish(appends, results);
    return result;
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
        MessageContext.run(
          stored,
          () => this.eventBus.publish(instance),
          'events-handler',
        );
      });
    }
  }
}
