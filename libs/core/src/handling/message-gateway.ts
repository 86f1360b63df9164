import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus, type Command, type Query } from '@nestjs/cqrs';
import { CommandOutbox } from './command-outbox.js';
import { attachSendOptions, type SendOptions } from './send-options.js';

/** The result type a `Command<R>` or `Query<R>` declares, else `unknown`. */
type ResultOf<M> =
  M extends Command<infer R> ? R : M extends Query<infer R> ? R : unknown;

/**
 * The buses, plus what they cannot say: a command id (a command sent again with
 * the same id returns the first result and changes nothing), extra metadata, a
 * per-call timeout, and sending durably without waiting.
 */
@Injectable()
export class MessageGateway {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
    private readonly outbox: CommandOutbox,
  ) {}

  send<C extends object>(
    command: C,
    options: SendOptions = {},
  ): Promise<ResultOf<C>> {
    attachSendOptions(command, options);
    return this.commandBus.execute(command) as Promise<ResultOf<C>>;
  }

  query<Q extends object>(
    query: Q,
    options: SendOptions = {},
  ): Promise<ResultOf<Q>> {
    attachSendOptions(query, options);
    return this.queryBus.execute(query) as Promise<ResultOf<Q>>;
  }

  /**
   * Sends a command without waiting for its handler, durably: resolves to
   * the command's id once it is stored (inside a command handler: with the
   * handler's writes, so a handler that fails sends nothing). An instance of
   * an app that handles it delivers it at once, or as soon as one runs,
   * retrying failures as the scheduler retries a schedule; the command's id
   * (derived when sent from a handler) makes every repeat idempotent. The
   * handler's outcome is only logged where it runs.
   */
  sendAndForget(
    command: object,
    options: Omit<SendOptions, 'timeoutMs'> = {},
  ): Promise<string> {
    return this.outbox.add(command, options);
  }
}
