import { Injectable, Module } from '@nestjs/common';
import {
  ChronicleModule,
  Command,
  CommandBus,
  CommandHandler,
  CommandType,
  Consumer,
  HandleEvent,
  HandleSchedule,
  InjectAggregateRepository,
  Query,
  QueryHandler,
  QueryType,
  Scheduler,
  ScheduleType,
  type AggregateRepository,
  type ICommandHandler,
  type IQueryHandler,
} from '@chronicle/core';
import {
  ConfirmOrder,
  Order,
  OrderConfirmed,
  OrderLine,
  OrderPlaced,
  orderHandlers,
} from '../../core/test/orders.fixture.js';
import {
  FixtureExpectationError,
  onAggregate,
  TestFixture,
  timeElapses,
} from './index.js';

// A projection kept by a consumer, and a schedule that confirms orders later.

@Injectable()
@Consumer('placed-orders', { maxAttempts: 2, retryDelayMs: 1 })
class PlacedOrders {
  readonly lines = new Map<string, number>();

  @HandleEvent(OrderPlaced)
  onPlaced(event: OrderPlaced): void {
    if (event.orderId === 'poison') throw new Error('cannot project poison');
    this.lines.set(event.orderId, event.lines.length);
  }
}

@QueryType('fixture.CountPlacedOrders')
class CountPlacedOrders extends Query<number> {}

@QueryHandler(CountPlacedOrders)
class CountPlacedOrdersHandler implements IQueryHandler<CountPlacedOrders> {
  constructor(private readonly projection: PlacedOrders) {}

  async execute(): Promise<number> {
    return this.projection.lines.size;
  }
}

@ScheduleType('fixture.AutoConfirm')
class AutoConfirm {
  constructor(readonly orderId: string) {}
}

@CommandType('fixture.PlaceWithAutoConfirm')
class PlaceWithAutoConfirm extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

@CommandHandler(PlaceWithAutoConfirm)
class PlaceWithAutoConfirmHandler implements ICommandHandler<PlaceWithAutoConfirm> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
    private readonly scheduler: Scheduler,
  ) {}

  async execute({ orderId }: PlaceWithAutoConfirm): Promise<void> {
    const order = this.orders.create(orderId);
    order.place([Object.assign(new OrderLine(), { sku: 'tea', quantity: 1 })]);
    await this.orders.save(order);
    await this.scheduler.schedule(
      new AutoConfirm(orderId),
      { delay: '15m' },
      { id: `confirm-${orderId}` },
    );
  }
}

@Injectable()
class AutoConfirmer {
  constructor(private readonly commands: CommandBus) {}

  @HandleSchedule(AutoConfirm)
  async confirm({ orderId }: AutoConfirm): Promise<void> {
    await this.commands.execute(new ConfirmOrder(orderId));
  }
}

@Module({
  imports: [ChronicleModule.forFeature([Order])],
  providers: [
    ...orderHandlers,
    PlacedOrders,
    CountPlacedOrdersHandler,
    PlaceWithAutoConfirmHandler,
    AutoConfirmer,
  ],
})
class ShopModule {}

const placed = (id: string) =>
  new OrderPlaced(id, [{ sku: 'tea', quantity: 1 }]);

describe('TestFixture with consumers and schedules', () => {
  let fixture: TestFixture;
  beforeAll(async () => {
    fixture = await TestFixture.create({ imports: [ShopModule] });
  });
  afterAll(() => fixture.close());

  it('lets consumers catch up on the history before the action', async () => {
    await fixture
      .given(
        onAggregate(Order, 'p-1', placed('p-1')),
        onAggregate(Order, 'p-2', placed('p-2')),
      )
      .when(new CountPlacedOrders())
      .expectResult((count: number) => count >= 2);
  });

  it('asserts on a projection once the consumers have handled the action', async () => {
    await fixture
      .when(onAggregate(Order, 'p-3', placed('p-3')))
      .expectEvents(placed('p-3'))
      .expectThat((app) => {
        expect(app.get(PlacedOrders).lines.get('p-3')).toBe(1);
      });
  });

  it('records what the action scheduled', async () => {
    await fixture
      .when(new PlaceWithAutoConfirm('s-1'))
      .expectEvents(OrderPlaced)
      .expectSchedules(new AutoConfirm('s-1'));
    // The fixture is shared: leave no schedule behind for the next test's clock.
    await fixture.app.get(Scheduler).cancel('confirm-s-1');
  });

  it('delivers a schedule when its time has come, and not before', async () => {
    await fixture
      .given(new PlaceWithAutoConfirm('s-2'))
      .when(timeElapses('14m'))
      .expectNoEvents();
    await fixture
      .when(timeElapses('1m'))
      .expectEvents(new OrderConfirmed('s-2'))
      .expectNoSchedules();
    await fixture
      .when(new ConfirmOrder('s-2'))
      .expectState(Order, 's-2', { status: 'confirmed' })
      .expectNoEvents();
  });

  it("leaves Chronicle's own schedules (the command-records cleanup) out of what an action scheduled", async () => {
    // The cleanup fires hourly and is re-armed: not something the app scheduled.
    await fixture.when(timeElapses('2h')).expectNoSchedules();
  });

  it('fails the scenario when a consumer stops on an event, naming it and the error', async () => {
    const error = await Promise.resolve(
      fixture
        .when(onAggregate(Order, 'poison', placed('poison')))
        .expectEvents(OrderPlaced),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FixtureExpectationError);
    expect((error as Error).message).toContain(
      'Consumer "placed-orders" stopped',
    );
    expect((error as Error).message).toContain('cannot project poison');
  });
});
