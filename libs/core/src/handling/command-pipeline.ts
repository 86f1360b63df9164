import { Inject, Injectable, Optional } from '@nestjs/common';
import type {
  AsyncContext,
  ICommandHandler,
  IQueryHandler,
} from '@nestjs/cqrs';
import {
  createEnvelope,
  isFirstSend,
  MESSAGE_OPTIONS,
  MessageContext,
  validateMessage,
  type Envelope,
  type MessageOptions,
  type UnknownFieldsPolicy,
} from '../messages/index.js';
import {
  ConcurrencyError,
  EventStore,
  type HandledCommand,
} from '../store/index.js';
import {
  TRANSPORT_OPTIONS,
  type ResolvedTransportOptions,
} from '../transport/index.js';
import {
  COMMAND_HANDLING_OPTIONS,
  type CommandHandlingOptions,
} from './command-handling.options.js';
import { CommandIdReusedError, ResultNotJsonError } from './handling.errors.js';
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
    const envelope = createEnvelope(command, 'command', sent);
    await validateMessage(command, envelope.type, this.unknownFields);
    // Every command's outcome is kept with its effects, so that sending it
    // again with its id (after a timeout, a crash, a re-run of the code that
    // sent it) returns the first result and changes nothing.
    const record = this.deduplicate
      ? { id: envelope.id, type: envelope.type, app: this.app }
      : undefined;
    // An id made for this very send has no earlier outcome to look for.
    const firstSend = sent.firstSend === true || isFirstSend(envelope);
    const name = `command:${handlerName(handler)}`;
    if (record && !firstSend) {
      const handled = await this.store.findHandledCommand(record.id);
      if (handled) return this.replay(handled, envelope);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        // A fresh handling context per attempt: a re-run derives the same
        // ids for what it sends as the attempt that lost the race.
        return await MessageContext.run(
          envelope,
          () =>
            this.unitOfWork.run(
              async () =>
                asRecorded(await handler.execute(command), envelope.type),
              record,
              asyncContext,
            ),
          name,
        );
      } catch (error) {
        // A concurrent send of the same id may have won meanwhile (and made this
        // run fail, or collide on the record): then its outcome is the answer.
        if (record) {
          const handled = await this.store.findHandledCommand(record.id);
          if (handled) return this.replay(handled, envelope);
        }
        if (!(error instanceof ConcurrencyError) || attempt >= this.retries) {
          throw error;
        }
        await this.pause(attempt);
      }
    }
  }

  async executeQuery(handler: IQueryHandler, query: object): Promise<unknown> {
    const envelope = createEnvelope(query, 'query', sendOptionsOf(query));
    await validateMessage(query, envelope.type, this.unknownFields);
    return MessageContext.run(
      envelope,
      () => handler.execute(query),
      `query:${handlerName(handler)}`,
    );
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

/**
 * A command's result as its record keeps it and as every caller reads it:
 * what JSON makes of it (a Date becomes its ISO string, a class instance a
 * plain object). The first call returns it so too, so the first answer, a
 * repeat answered from the record, and an answer over NATS have one shape.
 */
function asRecorded(result: unknown, type: string): unknown {
  if (result === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch (error) {
    throw new ResultNotJsonError(type, error);
  }
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

/** A handler's name as part of derived ids: its class, stable across deploys. */
function handlerName(handler: object): string {
  return handler.constructor?.name ?? 'handler';
}
