import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus, type Command, type Query } from '@nestjs/cqrs';
import { attachSendOptions, type SendOptions } from './send-options.js';

/** The result type a `Command<R>` or `Query<R>` declares, else `unknown`. */
type ResultOf<M> =
  M extends Command<infer R> ? R : M extends Query<infer R> ? R : unknown;

/**
 * The buses, plus what they cannot say: a command id (a command sent again with
 * the same id returns the first result and changes nothing), extra metadata, a
 * per-call timeout, and sending without waiting.
 */
@Injectable()
export class MessageGateway {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
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
   * Sends a command and does not wait for its handler: resolves once it is on
   * its way (handed to NATS, or started in this process). The handler's
   * outcome, error included, is only logged where it runs.
   */
  async sendAndForget(
    command: object,
    options: Omit<SendOptions, 'timeoutMs'> = {},
  ): Promise<void> {
    attachSendOptions(command, { ...options, forget: true });
    await this.commandBus.execute(command);
  }
}
