import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  AppendSignal,
  ChronicleModule,
  SQL_CLIENT,
  type SqlClient,
  CommandBus,
  CommandIdReusedError,
  ConcurrencyError,
  EventStore,
  MessageGateway,
  QueryBus,
  ValidationError,
  newMessageId,
  type PostgresEventStore,
  type StoredEvent,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  ConfirmAndFail,
  ConfirmOrder,
  ConfirmWithNote,
  GetOrder,
  Order,
  OrderConfirmed,
  OrderEventsRecorder,
  OrderLine,
  OrderPlaced,
  PlaceOrder,
  hooks,
  orderHandlers,
} from './orders.fixture.js';

function line(sku: string, quantity: number): OrderLine {
  return Object.assign(new OrderLine(), { sku, quantity });
}

/** Every event in the app's schema, committed or not yet readable by the log. */
async function countEvents(store: EventStore): Promise<number> {
  const postgres = store as PostgresEventStore;
  const [{ n }] = await postgres.client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${postgres.schema.events}`,
  );
  return n;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** ChronicleModule wired into a Nest app: the behaviour users rely on, on each database. */
export function chronicleModuleSuite(database: () => TestDatabase): void {
  let app: INestApplicationContext;
  let commands: CommandBus;
  let queries: QueryBus;
  let gateway: MessageGateway;
  let store: EventStore;

  beforeEach(async () => {
    hooks.attempts = 0;
    hooks.beforeSave = async () => undefined;
    OrderEventsRecorder.seen = [];

    @Module({
      imports: [ChronicleModule.forFeature([Order])],
      providers: orderHandlers,
    })
    class OrdersModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: { client: database().client(), schema: freshSchema('app') },
          commands: { retries: 3, retryDelayMs: 1 },
        }),
        OrdersModule,
      ],
    }).compile();
    app = await moduleRef.init();
    commands = app.get(CommandBus);
    queries = app.get(QueryBus);
    gateway = app.get(MessageGateway);
    store = app.get(EventStore);
  });

  afterEach(async () => {
    await app.close();
  });

  it('handles a command through an aggregate and rebuilds it from its stream', async () => {
    const placed = await commands.execute(
      new PlaceOrder('o-1', [line('apple', 2), line('pear', 1)]),
    );
    expect(placed).toEqual({ orderId: 'o-1', version: 1 });
    expect(await commands.execute(new ConfirmOrder('o-1'))).toBe(2);

    expect(await queries.execute(new GetOrder('o-1'))).toEqual({
      status: 'confirmed',
      lines: 2,
      version: 2,
    });
    const stream = await collect(store.readStream('test.Order-o-1'));
    expect(stream.map((e) => [e.type, e.revision])).toEqual([
      ['test.OrderPlaced', 1],
      ['test.OrderConfirmed', 2],
    ]);
  });

  it('gives @nestjs/cqrs the stable type name as the message id', () => {
    expect(Reflect.getMetadata('__command__', PlaceOrder)).toEqual({
      id: 'test.PlaceOrder',
    });
    expect(Reflect.getMetadata('__query__', GetOrder)).toEqual({
      id: 'test.GetOrder',
    });
    expect(Reflect.getMetadata('__event__', OrderPlaced)).toEqual({
      id: 'test.OrderPlaced',
    });
  });

  it('refuses an invalid command before its handler runs, naming each field and constraint', async () => {
    const error = await commands
      .execute(new PlaceOrder('', [line('', 0)]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const violations = (error as ValidationError).violations;
    expect(violations).toEqual([
      {
        field: 'orderId',
        constraints: { isNotEmpty: 'orderId should not be empty' },
      },
      {
        field: 'lines[0].sku',
        constraints: { isNotEmpty: 'sku should not be empty' },
      },
      {
        field: 'lines[0].quantity',
        constraints: { min: 'quantity must not be less than 1' },
      },
    ]);
    expect((error as Error).message).toContain('test.PlaceOrder');
    expect(hooks.attempts).toBe(0);
    expect(await countEvents(store)).toBe(0);
  });

  it('validates queries too', async () => {
    await expect(queries.execute(new GetOrder(''))).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('publishes events to @EventsHandler only after they are committed, with their envelope', async () => {
    await commands.execute(new PlaceOrder('o-2', [line('fig', 3)]));
    expect(OrderEventsRecorder.seen).toHaveLength(1);
    const { event, envelope } = OrderEventsRecorder.seen[0];
    expect(event).toBeInstanceOf(OrderPlaced);
    expect(envelope).toMatchObject({
      type: 'test.OrderPlaced',
      streamId: 'test.Order-o-2',
      streamVersion: 1,
    });
    // Streams, not the global log: the log waits for every open transaction on
    // the server, and other suites may be holding some.
    const [stored] = await collect(store.readStream('test.Order-o-2'));
    expect(envelope?.position).toBe(stored.position);
    expect(envelope?.id).toBe(stored.id);
  });

  it('stores and publishes nothing when the handler fails after saving', async () => {
    await commands.execute(new PlaceOrder('o-3', [line('kiwi', 1)]));
    OrderEventsRecorder.seen = [];
    await expect(commands.execute(new ConfirmAndFail('o-3'))).rejects.toThrow(
      'payment service said no',
    );
    expect(OrderEventsRecorder.seen).toEqual([]);
    expect(await store.streamVersion('test.Order-o-3')).toBe(1);
  });

  it('carries correlation, causation and user metadata from a command to its events', async () => {
    const commandId = newMessageId();
    await gateway.send(new PlaceOrder('o-4', [line('plum', 1)]), {
      id: commandId,
      metadata: { userId: 'u-7', correlationId: 'conversation-1' },
    });
    const [stored] = await collect(store.readStream('test.Order-o-4'));
    expect(stored.metadata).toEqual({
      userId: 'u-7',
      correlationId: 'conversation-1',
      causationId: commandId,
    });

    await commands.execute(new ConfirmOrder('o-4'));
    const [, confirmed] = await collect(store.readStream('test.Order-o-4'));
    // A root command correlates its events with itself.
    expect(confirmed.metadata.causationId).toBeDefined();
    expect(confirmed.metadata.correlationId).toBe(
      confirmed.metadata.causationId,
    );
  });

  it('re-runs a handler that lost a concurrency race, then succeeds', async () => {
    await commands.execute(new PlaceOrder('o-5', [line('lime', 1)]));
    hooks.attempts = 0;
    let interfered = false;
    hooks.beforeSave = async () => {
      if (interfered) return;
      interfered = true;
      // Another writer gets in between this handler's load and its save.
      await gateway.send(new ConfirmOrder('o-5'));
    };
    expect(await commands.execute(new ConfirmOrder('o-5'))).toBe(2);
    // The inner confirm, then the outer one twice: once lost, once on the fresh state.
    expect(hooks.attempts).toBe(3);
    expect(await store.streamVersion('test.Order-o-5')).toBe(2);
  });

  it('gives up after the configured retries and lets the ConcurrencyError reach the caller', async () => {
    await commands.execute(new PlaceOrder('o-6', [line('date', 1)]));
    hooks.attempts = 0;
    hooks.beforeSave = async () => {
      // Someone else always writes first.
      const { nextExpectedVersion } = await store.append('test.Order-o-6', [
        {
          id: newMessageId(),
          type: 'test.OrderPlaced',
          revision: 1,
          payload: { orderId: 'o-6', lines: [] },
          metadata: { correlationId: 'x' },
          timestamp: new Date(),
        },
      ]);
      expect(nextExpectedVersion).toBeGreaterThan(1);
    };
    const error = await commands
      .execute(new ConfirmOrder('o-6'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ streamId: 'test.Order-o-6' });
    expect(hooks.attempts).toBe(4);
  });

  it('returns the stored result for a command id sent again, and appends nothing', async () => {
    const id = newMessageId();
    const first = await gateway.send(new PlaceOrder('o-7', [line('yam', 1)]), {
      id,
    });
    OrderEventsRecorder.seen = [];
    const again = await gateway.send(new PlaceOrder('o-7', [line('yam', 1)]), {
      id,
    });
    expect(again).toEqual(first);
    expect(await store.streamVersion('test.Order-o-7')).toBe(1);
    expect(OrderEventsRecorder.seen).toEqual([]);
    expect(hooks.attempts).toBe(1);

    await expect(
      gateway.send(new ConfirmOrder('o-7'), { id }),
    ).rejects.toBeInstanceOf(CommandIdReusedError);
  });

  it('lets concurrent re-sends of one command id take effect once', async () => {
    const id = newMessageId();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        gateway
          .send(new PlaceOrder('o-8', [line('oat', 1)]), { id })
          .catch((e: unknown) => e),
      ),
    );
    expect(await store.streamVersion('test.Order-o-8')).toBe(1);
    for (const result of results) {
      expect(result).toEqual({ orderId: 'o-8', version: 1 });
    }
  });

  it('time travels: an aggregate as it stood at an earlier version', async () => {
    await commands.execute(new PlaceOrder('o-9', [line('rye', 1)]));
    await commands.execute(new ConfirmOrder('o-9'));
    const repository = app.get<
      import('../src/index.js').AggregateRepository<Order>
    >((await import('../src/index.js')).aggregateRepositoryToken(Order));
    const then = await repository.load('o-9', { atVersion: 1 });
    expect(then.status).toBe('placed');
    expect((await repository.load('o-9')).status).toBe('confirmed');
    await expect(repository.load('missing')).rejects.toThrow(
      'test.Order "missing" does not exist',
    );
  });

  it('commits a write enlisted by a handler with its events, and rolls it back with them', async () => {
    const client = app.get<SqlClient>(SQL_CLIENT);
    const table = `"${freshSchema('notes')}"`;
    await client.exec(`CREATE TABLE ${table} (order_id text)`);
    try {
      await commands.execute(new PlaceOrder('o-11', [line('nut', 1)]));
      await expect(
        commands.execute(new ConfirmWithNote('o-11', table, true)),
      ).rejects.toThrow('failed after enlisting');
      expect(await client.query(`SELECT * FROM ${table}`)).toEqual([]);
      expect(await store.streamVersion('test.Order-o-11')).toBe(1);

      await commands.execute(new ConfirmWithNote('o-11', table, false));
      expect(await client.query(`SELECT * FROM ${table}`)).toEqual([
        { order_id: 'o-11' },
      ]);
      expect(await store.streamVersion('test.Order-o-11')).toBe(2);
    } finally {
      await client.exec(`DROP TABLE ${table}`);
    }
  });

  it('signals readers after every commit that appended events', async () => {
    let signals = 0;
    const stop = app.get(AppendSignal).subscribe(() => signals++);
    await commands.execute(new PlaceOrder('o-12', [line('oat', 1)]));
    expect(signals).toBe(1);
    await expect(
      commands.execute(new ConfirmAndFail('o-12')),
    ).rejects.toThrow();
    expect(signals).toBe(1);
    await commands.execute(new ConfirmOrder('o-12'));
    expect(signals).toBe(2);
    stop();
  });

  it('keeps the classes of rebuilt events', async () => {
    await commands.execute(new PlaceOrder('o-10', [line('bean', 4)]));
    await commands.execute(new ConfirmOrder('o-10'));
    const confirmed = OrderEventsRecorder.seen.map((s) => s.event);
    expect(confirmed[1]).toBeInstanceOf(OrderConfirmed);
    const stored: StoredEvent[] = await collect(
      store.readStream('test.Order-o-10'),
    );
    expect(stored).toHaveLength(2);
  });
}
