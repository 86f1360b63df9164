import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Injectable,
  Module,
  type INestApplicationContext,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  ChronicleModuleOptionsError,
  CommandBus,
  EventStore,
  PostgresEventStore,
  MessageGateway,
  newMessageId,
  QueryBus,
  SQL_CLIENT,
  type ChronicleModuleAsyncOptions,
  type ChronicleModuleOptions,
  type ChronicleOptionsFactory,
  type SqlClient,
} from './index.js';
import { DATABASE_URL, freshSchema } from '../test/databases.js';
import {
  GetOrder,
  Order,
  OrderLine,
  PlaceOrder,
  orderHandlers,
} from '../test/orders.fixture.js';

@Module({
  imports: [ChronicleModule.forFeature([Order])],
  providers: orderHandlers,
})
class OrdersModule {}

async function start(root: ReturnType<typeof ChronicleModule.forRoot>) {
  const moduleRef = await Test.createTestingModule({
    imports: [root, OrdersModule],
  }).compile();
  return moduleRef.init();
}

const line = Object.assign(new OrderLine(), { sku: 'tea', quantity: 1 });

describe('ChronicleModule configuration', () => {
  let app: INestApplicationContext | undefined;
  const savedUrl = process.env.DATABASE_URL;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (savedUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = savedUrl;
  });

  it('runs embedded on PGlite when nothing is configured', async () => {
    delete process.env.DATABASE_URL;
    app = await start(ChronicleModule.forRoot());
    expect(app.get<SqlClient>(SQL_CLIENT).driver).toBe('pglite');
    await app.get(CommandBus).execute(new PlaceOrder('e-1', [line]));
    expect(await app.get(QueryBus).execute(new GetOrder('e-1'))).toMatchObject({
      status: 'placed',
    });
  });

  it('keeps an embedded database in dataDir across restarts', async () => {
    delete process.env.DATABASE_URL;
    const dataDir = await mkdtemp(join(tmpdir(), 'chronicle-'));
    try {
      app = await start(ChronicleModule.forRoot({ database: { dataDir } }));
      await app.get(CommandBus).execute(new PlaceOrder('e-2', [line]));
      await app.close();
      app = await start(ChronicleModule.forRoot({ database: { dataDir } }));
      expect(
        await app.get(QueryBus).execute(new GetOrder('e-2')),
      ).toMatchObject({
        status: 'placed',
        version: 1,
      });
    } finally {
      await app?.close();
      app = undefined;
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('uses PostgreSQL when DATABASE_URL is set', async () => {
    process.env.DATABASE_URL = DATABASE_URL;
    const schema = freshSchema('env');
    app = await start(ChronicleModule.forRoot({ database: { schema } }));
    expect(app.get<SqlClient>(SQL_CLIENT).driver).toBe('pg');
    await app.get(CommandBus).execute(new PlaceOrder('e-3', [line]));
    await dropSchema(app, schema);
  });

  it('runs a re-sent command again when deduplication is off', async () => {
    const schema = freshSchema('dedup');
    app = await start(
      ChronicleModule.forRoot({
        database: { url: DATABASE_URL, schema },
        commands: { deduplicate: false },
      }),
    );
    const gateway = app.get(MessageGateway);
    const id = newMessageId();
    await gateway.send(new PlaceOrder('e-5', [line]), { id });
    // Not recorded, so the handler runs again and the aggregate refuses.
    await expect(
      gateway.send(new PlaceOrder('e-5', [line]), { id }),
    ).rejects.toThrow('Order e-5 exists');
    await dropSchema(app, schema);
  });

  it('takes its options from a factory with @nestjs/config', async () => {
    delete process.env.DATABASE_URL;
    const schema = freshSchema('cfg');
    app = await start(
      ChronicleModule.forRootAsync({
        imports: [
          ConfigModule.forRoot({
            ignoreEnvFile: true,
            load: [() => ({ chronicle: { url: DATABASE_URL, schema } })],
          }),
        ],
        inject: [ConfigService],
        useFactory: (config: ConfigService): ChronicleModuleOptions => ({
          database: {
            url: config.getOrThrow<string>('chronicle.url'),
            schema: config.getOrThrow<string>('chronicle.schema'),
          },
        }),
      }),
    );
    expect(app.get<SqlClient>(SQL_CLIENT).driver).toBe('pg');
    await app.get(CommandBus).execute(new PlaceOrder('e-4', [line]));
    expect(await app.get(QueryBus).execute(new GetOrder('e-4'))).toMatchObject({
      status: 'placed',
    });
    await dropSchema(app, schema);
  });
});

/** A ChronicleOptionsFactory as users write one: options from @nestjs/config. */
@Injectable()
class ChronicleConfig implements ChronicleOptionsFactory {
  constructor(private readonly config: ConfigService) {}

  createChronicleOptions(): ChronicleModuleOptions {
    return {
      database: {
        url: DATABASE_URL,
        schema: this.config.getOrThrow<string>('chronicle.schema'),
      },
    };
  }
}

const configModule = (schema: string) =>
  ConfigModule.forRoot({
    ignoreEnvFile: true,
    load: [() => ({ chronicle: { schema } })],
  });

/** A module of the app's own that provides the factory, for `useExisting`. */
@Module({})
class SettingsModule {
  static withSchema(schema: string) {
    return {
      module: SettingsModule,
      imports: [configModule(schema)],
      providers: [ChronicleConfig],
      exports: [ChronicleConfig],
    };
  }
}

describe('ChronicleModule.forRootAsync', () => {
  let app: INestApplicationContext | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const storeSchema = (started: INestApplicationContext) =>
    started.get<PostgresEventStore>(EventStore).schema.name;

  it('takes its options from a class it instantiates (useClass)', async () => {
    const schema = freshSchema('cls');
    app = await start(
      ChronicleModule.forRootAsync({
        imports: [configModule(schema)],
        useClass: ChronicleConfig,
      }),
    );
    expect(storeSchema(app)).toBe(schema);
    await app.get(CommandBus).execute(new PlaceOrder('c-1', [line]));
    await dropSchema(app, schema);
  });

  it('takes its options from a factory an imported module provides (useExisting)', async () => {
    const schema = freshSchema('ex');
    app = await start(
      ChronicleModule.forRootAsync({
        imports: [SettingsModule.withSchema(schema)],
        useExisting: ChronicleConfig,
      }),
    );
    expect(storeSchema(app)).toBe(schema);
    await app.get(CommandBus).execute(new PlaceOrder('x-1', [line]));
    await dropSchema(app, schema);
  });

  it('refuses no way, or two ways, to make the options', () => {
    expect(() =>
      ChronicleModule.forRootAsync({} as ChronicleModuleAsyncOptions),
    ).toThrow(ChronicleModuleOptionsError);
    expect(() =>
      ChronicleModule.forRootAsync({
        useClass: ChronicleConfig,
        useExisting: ChronicleConfig,
      } as unknown as ChronicleModuleAsyncOptions),
    ).toThrow('got useClass and useExisting');
  });
});

async function dropSchema(
  app: INestApplicationContext,
  schema: string,
): Promise<void> {
  await app
    .get<SqlClient>(SQL_CLIENT)
    .exec(`DROP SCHEMA IF EXISTS "${schema}", "${schema}_projections" CASCADE`);
}
