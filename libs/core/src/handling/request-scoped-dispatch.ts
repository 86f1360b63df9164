import { Inject, Injectable, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { AsyncContext } from '@nestjs/cqrs';

/** Runs a message in the context @nestjs/cqrs's bus resolved it for. */
export type ScopedExecute = (
  message: object,
  context: AsyncContext,
) => Promise<unknown>;

/** The local runs of request-scoped handlers, by the class of message they handle. */
@Injectable()
export class ScopedHandlers {
  private readonly byClass = new Map<object, ScopedExecute>();

  set(messageClass: object, execute: ScopedExecute): void {
    this.byClass.set(messageClass, execute);
  }

  get(message: object): ScopedExecute | undefined {
    return this.byClass.get(Object.getPrototypeOf(message).constructor);
  }
}

/**
 * What @nestjs/cqrs's buses resolve, per AsyncContext, for a message whose
 * handler is request-scoped: the bus registers the context given to
 * `execute` (or attached to the message, or a new one) as the REQUEST,
 * resolves this in it, and calls `execute`; this hands the message and that
 * context to the pipeline around the handler instance of the same context.
 * Only public @nestjs/cqrs and Nest behaviour: the bus's own path for
 * request-scoped handlers.
 */
@Injectable({ scope: Scope.REQUEST })
export class RequestScopedDispatch {
  constructor(
    @Inject(REQUEST) private readonly context: AsyncContext,
    private readonly handlers: ScopedHandlers,
  ) {}

  execute(message: object): Promise<unknown> {
    const execute = this.handlers.get(message);
    if (!execute) {
      throw new TypeError(
        `No request-scoped handler is bound for ${message.constructor.name}`,
      );
    }
    return execute(message, this.context);
  }
}
