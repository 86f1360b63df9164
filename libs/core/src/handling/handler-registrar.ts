import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  AsyncContext,
  CommandBus,
  QueryBus,
  type ICommand,
  type ICommandHandler,
  type IQuery,
  type IQueryHandler,
} from '@nestjs/cqrs';
import { CommandPipeline } from './command-pipeline.js';

/*
 * @nestjs/cqrs's own metadata keys: the handled class of a handler, and the id
 * of a message class. A unit test pins them so that an upgrade fails loudly.
 */
const COMMAND_HANDLER_METADATA = '__commandHandler__';
const QUERY_HANDLER_METADATA = '__queryHandler__';
const COMMAND_METADATA = '__command__';
const QUERY_METADATA = '__query__';

type Handler = ICommandHandler | IQueryHandler;
type Bindable = Parameters<CommandBus['bind']>[0];

/**
 * Puts the pipeline in front of every @CommandHandler and @QueryHandler. After
 * @nestjs/cqrs has registered them, each is bound again, under the same id,
 * through the buses' public `bind`, to a proxy that runs the pipeline. This
 * lives in a non-global module on purpose: Nest runs the bootstrap hooks of
 * global modules (CqrsModule) first, so these bindings are the ones that stay.
 */
@Injectable()
export class HandlerRegistrar implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
    private readonly pipeline: CommandPipeline,
  ) {}

  onApplicationBootstrap(): void {
    const kinds = [
      {
        handlerKey: COMMAND_HANDLER_METADATA,
        idKey: COMMAND_METADATA,
        bind: (handler: Bindable, id: string) =>
          this.commandBus.bind(handler, id),
        run: (handler: Handler, message: object) =>
          this.pipeline.executeCommand(handler as ICommandHandler, message),
      },
      {
        handlerKey: QUERY_HANDLER_METADATA,
        idKey: QUERY_METADATA,
        bind: (handler: Bindable, id: string) =>
          this.queryBus.bind(handler, id),
        run: (handler: Handler, message: object) =>
          this.pipeline.executeQuery(handler as IQueryHandler, message),
      },
    ];
    for (const wrapper of this.discovery.getProviders()) {
      const type = wrapper.instance?.constructor ?? wrapper.metatype;
      if (typeof type !== 'function') continue;
      for (const { handlerKey, idKey, bind, run } of kinds) {
        const handled = Reflect.getMetadata(handlerKey, type);
        if (!handled) continue;
        const { id } = Reflect.getMetadata(idKey, handled) as { id: string };
        bind(this.proxy(wrapper, run), id);
      }
    }
  }

  /** A static handler whose `execute` runs the pipeline around the real one. */
  private proxy(
    wrapper: InstanceWrapper,
    run: (handler: Handler, message: ICommand | IQuery) => Promise<unknown>,
  ): Bindable {
    const execute = wrapper.isDependencyTreeStatic()
      ? (message: ICommand | IQuery) =>
          run(wrapper.instance as Handler, message)
      : async (message: ICommand | IQuery) => {
          // Request-scoped handler: resolve it per message, as @nestjs/cqrs does.
          const context = AsyncContext.of(message) ?? new AsyncContext();
          if (!AsyncContext.isAttached(context)) {
            this.moduleRef.registerRequestByContextId(context, context.id);
            context.attachTo(message);
          }
          const handler = await this.moduleRef.resolve<Handler>(
            wrapper.metatype as never,
            context.id,
            { strict: false },
          );
          return run(handler, message);
        };
    return {
      isDependencyTreeStatic: () => true,
      instance: { execute },
    } as unknown as Bindable;
  }
}
