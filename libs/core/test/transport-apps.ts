import {
  Module,
  type DynamicModule,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  CommandBus,
  MessageGateway,
  QueryBus,
  type ChronicleModuleOptions,
  type SqlClient,
} from '../src/index.js';
import { freshSchema } from './databases.js';
import { INSTANCE, Ledger, ShippingModule } from './shipping.fixture.js';

@Module({})
class InstanceModule {
  static named(instance: string): DynamicModule {
    return {
      module: InstanceModule,
      global: true,
      providers: [{ provide: INSTANCE, useValue: instance }],
      exports: [INSTANCE],
    };
  }
}

export interface TestApp {
  readonly app: INestApplicationContext;
  readonly commands: CommandBus;
  readonly queries: QueryBus;
  readonly gateway: MessageGateway;
  /** What this app's shipping handlers saw (when it has them). */
  readonly ledger?: Ledger;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** The instance's name, returned by its handlers as `handledBy`. */
  readonly instance: string;
  readonly client: SqlClient;
  /** Import the shipping handlers (a caller-only app does not). */
  readonly handlers: boolean;
  readonly chronicle: ChronicleModuleOptions;
  /** The store's schema; apps given the same one share a store, as deployed apps do. Default: a fresh one. */
  readonly schema?: string;
}

/** A Nest app as a microclient would be: ChronicleModule, and maybe the shipping handlers. */
export async function startApp(options: TestAppOptions): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        ...options.chronicle,
        database: {
          client: options.client,
          schema: options.schema ?? freshSchema('tr'),
        },
      }),
      InstanceModule.named(options.instance),
      ...(options.handlers ? [ShippingModule] : []),
    ],
  }).compile();
  const app = await moduleRef.init();
  let closed = false;
  return {
    app,
    commands: app.get(CommandBus),
    queries: app.get(QueryBus),
    gateway: app.get(MessageGateway),
    ledger: options.handlers ? app.get(Ledger) : undefined,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
