import { Module, type DynamicModule } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { ConsoleAccessGuard } from './access/console-access.guard.js';
import { CsrfTokens } from './access/csrf.js';
import {
  CancelScheduleHandler,
  DropDeadLettersHandler,
  RetryDeadLettersHandler,
} from './actions/console.handlers.js';
import {
  CONSOLE_OPTIONS,
  resolveConsoleOptions,
  type ConsoleOptions,
} from './console.options.js';
import { ActionsController } from './controllers/actions.controller.js';
import { AssetsController } from './controllers/assets.controller.js';
import { ConsoleHeadersInterceptor } from './controllers/console-headers.interceptor.js';
import { PageContexts } from './controllers/page-context.js';
import { PagesController } from './controllers/pages.controller.js';
import { TailController } from './controllers/tail.controller.js';
import { AggregateTypes } from './reading/aggregate-types.js';
import { ConsoleStore } from './reading/console-store.js';
import { LagHistory } from './reading/lag-history.js';

/**
 * The web console, served by the app itself under `path` (default
 * `/chronicle`): import `ChronicleConsoleModule.forRoot({ guard })` beside
 * `ChronicleModule.forRoot` in an app that serves HTTP. See docs/guides/console.md.
 */
@Module({})
export class ChronicleConsoleModule {
  static forRoot(options: ConsoleOptions): DynamicModule {
    const resolved = resolveConsoleOptions(options);
    return {
      module: ChronicleConsoleModule,
      imports: [
        RouterModule.register([
          { path: resolved.path, module: ChronicleConsoleModule },
        ]),
      ],
      controllers: [
        PagesController,
        TailController,
        ActionsController,
        AssetsController,
      ],
      providers: [
        { provide: CONSOLE_OPTIONS, useValue: resolved },
        CsrfTokens,
        ConsoleAccessGuard,
        ConsoleHeadersInterceptor,
        PageContexts,
        ConsoleStore,
        AggregateTypes,
        LagHistory,
        RetryDeadLettersHandler,
        DropDeadLettersHandler,
        CancelScheduleHandler,
      ],
    };
  }
}
