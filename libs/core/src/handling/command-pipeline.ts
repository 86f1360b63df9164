import { Inject, Injectable, Optional } from '@nestjs/common';
import type {
  AsyncContext,
  ICommandHandler,
  IQueryHandler,
} from '@nestjs/cqrs';
import {
  deferEnvelope,
  MESSAGE_OPTIONS,
  checkMessage,
  payloadOf,
  runHandling,
  type DeferredEnvelope,
  type Envelope,
  type MessageOptions,
  type UnknownFieldsPolicy,
} from '../messages/index.js';
import { HandlingLog } from '../message-log/index.js';
import {
  ConcurrencyError,
  EventStore,
  type HandledCommand,
} from '../store/index.js';
import { AccessCheck } from '../security/index.js';
import { Telemetry } from '../telemetry/index.js';
import {
  TRANSPORT_OPTIONS,
  type ResolvedTransportOptions,
} from '../transport/index.js';
import {
  COMMAND_HANDLING_OPTIONS,
  type CommandHandlingOptions,
} from './command-handling.options.js';
import { FailureReporter } from './failure-reporter.js';
import { CommandIdReusedError } from './handling.errors.js';
import { observeHandling } from './observe-handling.js';
import { sendOptionsOf } from './send-options.js';
import { UnitOfWork } from './unit-of-work.js';

/**
 * What happens around every command and query handler of this process: the
 * envelope and its context, validation, the unit of work, idempotency by
 * command id, and re-running a handler that lost a concurrency race.
 */
@Injectable()
export class CommandPipeline {
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly deduplicate: boolean;
  /** Recorded with each command: each app sweeps only its own records. */
  private readonly app: string | undefined;
  private readonly unknownFields: UnknownFieldsPolicy;

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly store: EventStore,
    @Optional()
    @Inject(COMMAND_HANDLING_OPTIONS)
    options: CommandHandlingOptions = {},
    @Optional()
    @Inject(TRANSPORT_OPTIONS)
    transport?: ResolvedTransportOptions,
    @Optional()
    @Inject(MESSAGE_OPTIONS)
    messages: MessageOptions = {},
    @Optional()
    private readonly telemetry: Telemetry = Telemetry.off,
    @Optional()
    private readonly log?: HandlingLog,
    @Optional()
    private readonly failures?: FailureReporter,
    @Optional()
    private readonly access?: AccessCheck,
  ) {
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 10;
    this.deduplicate = options.deduplicate ?? true;
    this.app = transport?.app;
    this.unknownFields = messages.unknownFields ?? 'strip';
  }

  /**
   * Runs a command handler. `asyncContext`, the @nestjs/cqrs context a
   * request-scoped handler was resolved in, goes with the command's events to
   * their request-scoped handlers.
   */
  async executeCommand(
    handler: ICommandHandler,
    command: object,
    asyncContext?: AsyncContext,
  ): Promise<unknown> {
    const sent = sendOptionsOf(command);
    // Made when first read: a command that records, sends and reads nothing needs no id.
    const made = deferEnvelope(command, 'command', sent);
    return observeHandling(this.telemetry, 'command', handler, made, () =>
      this.runCommand(handler, command, asyncContext, sent.firstSend, made),
    );
  }

  private async runCommand(
    handler: ICommandHandler,
    command: object,
    asyncContext: AsyncContext | undefined,
    sentFirst: boolean | undefined,
    made: DeferredEnvelope<object>,
  ): Promise<unknown> {
    const logged = this.log?.start(
      'command',
      () => made.envelope,
      () => payloadOf(made.envelope),
      command,
      sendOptionsOf(command).senderApp,
    );
    const name = handlingName('command', handler);
    let attempts = 0;
    try {
      const type = made.type;
      this.checkAccess(handler, command, made);
      const checking = checkMessage(command, type, this.unknownFields);
      if (checking !== undefined) await checking;
      // Every command's outcome is kept with its effects, so that sending it
      // again with its id (after a timeout, a crash, a re-run of the code that
      // sent it) returns the first result and changes nothing.
      const record = this.deduplicate
        ? { id: made.envelope.id, type, app: this.app }
        : undefined;
      // An id made for this very send has no earlier outcome to look for.
      if (record && !(sentFirst === true || made.firstSend)) {
        const handled = await this.store.findHandledCommand(record.id);
        if (handled) return this.replay(handled, made.envelope);
      }
      for (let attempt = 0; ; attempt++) {
        attempts = attempt + 1;
        try {
          // A fresh handling context per attempt: a re-run derives the same
          // ids for what it sends as the attempt that lost the race.
          // The handling and its unit of work open in one frame (see UnitOfWork.run).
          const result = await this.unitOfWork.run(
            () => handler.execute(command),
            record,
            asyncContext,
            { source: made, handler: name },
            type,
            logged,
          );
          logged?.ok(result);
          return result;
        } catch (error) {
          // A concurrent send of the same id may have won meanwhile (and made this
          // run fail, or collide on the record): then its outcome is the answer.
          if (record) {
            const handled = await this.store.findHandledCommand(record.id);
            if (handled) return this.replay(handled, made.envelope);
          }
          if (!(error instanceof ConcurrencyError) || attempt >= this.retries) {
            throw error;
          }
          await this.pause(attempt);
        }
      }
    } catch (error) {
      failed(made);
      logged?.failed(error);
      this.report('command', made, name, error, attempts);
      throw error;
    }
  }

  /** The final outcome of a command or query that failed here, as an error message. */
  private report(
    kind: 'command' | 'query',
    made: DeferredEnvelope<object>,
    handler: string,
    error: unknown,
    attempts: number,
  ): void {
    if (!this.failures) return;
    const envelope = made.envelope;
    this.failures.report({
      kind,
      messageId: envelope.id,
      messageType: envelope.type,
      metadata: envelope.metadata,
      handler,
      error,
      attempt: Math.max(1, attempts),
      next: 'returned',
    });
  }

  async executeQuery(handler: IQueryHandler, query: object): Promise<unknown> {
    const made = deferEnvelope(query, 'query', sendOptionsOf(query));
    return observeHandling(this.telemetry, 'query', handler, made, async () => {
      const logged = this.log?.start(
        'query',
        () => made.envelope,
        () => payloadOf(made.envelope),
        query,
        sendOptionsOf(query).senderApp,
      );
      const name = handlingName('query', handler);
      try {
        this.checkAccess(handler, query, made);
        const checking = checkMessage(query, made.type, this.unknownFields);
        if (checking !== undefined) await checking;
        const result: unknown = await runHandling(
          { source: made, handler: name },
          () => handler.execute(query),
        );
        logged?.ok(result);
        return result;
      } catch (error) {
        failed(made);
        logged?.failed(error);
        this.report('query', made, name, error, 1);
        throw error;
      }
    });
  }

  /**
   * Who the message runs as may have it handled here: checked before
   * anything else (validation would tell an unknown caller about the
   * message), for sends in process and off the wire alike.
   */
  private checkAccess(
    handler: object,
    message: object,
    made: DeferredEnvelope<object>,
  ): void {
    if (!this.access) return;
    const rule = this.access.ruleFor(handler.constructor, message.constructor);
    if (rule !== null) {
      this.access.enforce(rule, made.envelope.metadata, made.type);
    }
  }

  private replay(handled: HandledCommand, envelope: Envelope): unknown {
    if (handled.type !== envelope.type) {
      throw new CommandIdReusedError(envelope.id, handled.type, envelope.type);
    }
    return handled.result;
  }

  /** Exponential back-off with full jitter, so racing handlers spread out. */
  private pause(attempt: number): Promise<void> {
    const ceiling = this.retryDelayMs * 2 ** attempt;
    return new Promise((resolve) =>
      setTimeout(resolve, Math.random() * ceiling),
    );
  }
}

/** A failed message gets its id (its envelope is made), so its failure is logged and reported under it. */
function failed(made: DeferredEnvelope<object>): void {
  void made.envelope;
}

const handlingNames = {
  command: new WeakMap<object, string>(),
  query: new WeakMap<object, string>(),
};

/**
 * A handler's name as part of derived ids (`command:PlaceOrderHandler`): its
 * class, stable across deploys; made once per handler class.
 */
function handlingName(kind: 'command' | 'query', handler: object): string {
  const names = handlingNames[kind];
  const type = handler.constructor ?? handler;
  let name = names.get(type);
  if (name === undefined) {
    name = `${kind}:${handler.constructor?.name ?? 'handler'}`;
    names.set(type, name);
  }
  return name;
}
