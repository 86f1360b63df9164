import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, RouterModule } from '@nestjs/core';
import { DocsController } from './docs.controller.js';
import { EventFeedController } from './event-feed.controller.js';
import { GatewayGuard } from './gateway.guard.js';
import {
  GATEWAY_OPTIONS,
  resolveGatewayOptions,
  type GatewayOptions,
} from './gateway.options.js';
import { MessageDispatch } from './message-dispatch.js';
import { MessagesController } from './messages.controller.js';
import { ProblemFilter } from './problem.filter.js';

/** The gateway's routes, mounted under `path` by `ChronicleGatewayModule`. */
@Module({})
class GatewayRoutesModule {}

/**
 * Mounts Chronicle's HTTP gateway in an app that imports `ChronicleModule`:
 * commands and queries as `POST /commands/{type}` and `/queries/{type}`,
 * the event feed at `GET /events`, the OpenAPI document at
 * `GET /openapi.json` and its Swagger UI at `GET /docs`. See
 * docs/guides/gateway.md.
 */
@Module({})
export class ChronicleGatewayModule {
  static forRoot(options: GatewayOptions = {}): DynamicModule {
    const resolved = resolveGatewayOptions(options);
    const optionsProvider = { provide: GATEWAY_OPTIONS, useValue: resolved };
    return {
      module: ChronicleGatewayModule,
      imports: [
        {
          module: GatewayRoutesModule,
          controllers: [
            MessagesController,
            EventFeedController,
            DocsController,
          ],
          providers: [optionsProvider, MessageDispatch, GatewayGuard],
        },
        RouterModule.register([
          { path: resolved.basePath || '/', module: GatewayRoutesModule },
        ]),
      ],
      providers: [
        optionsProvider,
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
