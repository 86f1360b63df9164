import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  CommandBus,
  MessageLogWriter,
  QueryBus,
  type ChronicleModuleOptions,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { freshNamespace, NATS_URL } from '../../test/nats.js';
import {
  Balance,
  Deposit,
  LedgerModule,
  Withdraw,
} from '../../test/message-log.fixture.js';

// Two microclients over NATS on one store: the log names who handled a
// message and who sent it.

const database = postgresDatabase();
const apps: INestApplicationContext[] = [];
afterEach(async () => {
  while (apps.length > 0) await apps.pop()?.close();
});
afterAll(() => database.close());

@Module({})
class NoHandlers {}

async function start(
  app: string,
  handlers: boolean,
  schema: string,
  namespace: string,
  extra: Partial<ChronicleModuleOptions> = {},
): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        app,
        database: { client: database.client(), schema },
        transport: { nats: { servers: NATS_URL }, namespace },
        tracking: { instanceId: `${app}-1` },
        ...extra,
      }),
      handlers ? LedgerModule : NoHandlers,
    ],
  }).compile();
  const started = await moduleRef.init();
  apps.push(started);
  return started;
}

async function logged(schema: string) {
  return database.client().query<{
    kind: string;
    type: string;
    app: string;
    instance: string;
    sender_app: string | null;
    outcome: string;
  }>(
    `SELECT kind, type, app, instance, sender_app, outcome
       FROM "${schema}".message_log ORDER BY logged_at, id`,
  );
}

it('names the app and instance that handled a command and the app that sent it', async () => {
  const schema = freshSchema('mln');
  const namespace = freshNamespace();
  const ledger = await start('ledger', true, schema, namespace);
  const shop = await start('shop', false, schema, namespace);
  await shop.get(CommandBus).execute(new Deposit('n-1', 3));
  await expect(
    shop.get(CommandBus).execute(new Withdraw('n-1')),
  ).rejects.toThrow('would be overdrawn');
  await ledger.get(MessageLogWriter).flush();
  expect(await logged(schema)).toEqual([
    {
      kind: 'command',
      type: 'ledger.Deposit',
      app: 'ledger',
      instance: 'ledger-1',
      sender_app: 'shop',
      outcome: 'ok',
    },
    {
      kind: 'command',
      type: 'ledger.Withdraw',
      app: 'ledger',
      instance: 'ledger-1',
      sender_app: 'shop',
      outcome: 'rejected',
    },
    // Its error message, from the app where it failed (see errors as messages).
    {
      kind: 'error',
      type: 'ledger.Withdraw',
      app: 'ledger',
      instance: 'ledger-1',
      sender_app: null,
      outcome: 'rejected',
    },
  ]);
});

it('logs queries only when asked to (messageLog.queries)', async () => {
  const schema = freshSchema('mln');
  const namespace = freshNamespace();
  const quiet = await start('ledger', true, schema, namespace);
  const shop = await start('shop', false, schema, namespace);
  await expect(shop.get(QueryBus).execute(new Balance('abc'))).resolves.toBe(3);
  await quiet.get(MessageLogWriter).flush();
  expect(await logged(schema)).toEqual([]);
  await quiet.close();

  const chatty = await start('ledger', true, schema, namespace, {
    messageLog: { queries: true },
  });
  await expect(shop.get(QueryBus).execute(new Balance('abcd'))).resolves.toBe(
    4,
  );
  await chatty.get(MessageLogWriter).flush();
  expect(await logged(schema)).toEqual([
    expect.objectContaining({
      kind: 'query',
      type: 'ledger.Balance',
      sender_app: 'shop',
      outcome: 'ok',
    }),
  ]);
});
