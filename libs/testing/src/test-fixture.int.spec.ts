import { Injectable, Module } from '@nestjs/common';
import {
  ChronicleModule,
  Command,
  CommandBus,
  CommandHandler,
  CommandType,
  EventsHandler,
  ValidationError,
  type ICommandHandler,
  type IEventHandler,
} from '@chronicle/core';
import {
  ConfirmOrder,
  GetOrder,
  Order,
  OrderConfirmed,
  OrderLine,
  OrderPlaced,
  PlaceOrder,
  PlaceOrderHandler,
  orderHandlers,
} from '../../core/test/orders.fixture.js';
import {
  FixtureExpectationError,
  onAggregate,
  onStream,
  TestFixture,
} from './index.js';

@CommandType('fixture.NotifyCustomer')
class NotifyCustomer extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

@CommandHandler(NotifyCustomer)
class NotifyCustomerHandler implements ICommandHandler<NotifyCustomer> {
  async execute(): Promise<void> {}
}

/** Sends a command onward when an order is confirmed, as a process manager would. */
@Injectable()
@EventsHandler(OrderConfirmed)
class NotifyOnConfirmation implements IEventHandler<OrderConfirmed> {
  constructor(private readonly commands: CommandBus) {}

  async handle(event: OrderConfirmed): Promise<void> {
    await this.commands.execute(new NotifyCustomer(event.orderId));
  }
}

@Module({
  imports: [ChronicleModule.forFeature([Order])],
  providers: [...orderHandlers, NotifyCustomerHandler, NotifyOnConfirmation],
})
class OrdersTestModule {}

const line = (sku: string, quantity: number) =>
  Object.assign(new OrderLine(), { sku, quantity });
const placed = (id: string) =>
  new OrderPlaced(id, [{ sku: 'tea', quantity: 1 }]);

async function failureOf(run: PromiseLike<void>): Promise<string> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(FixtureExpectationError);
    return (error as Error).message;
  }
  throw new Error('expected the scenario to fail');
}

describe('TestFixture', () => {
  let fixture: TestFixture;
  beforeAll(async () => {
    fixture = await TestFixture.create({ imports: [OrdersTestModule] });
  });
  afterAll(() => fixture.close());

  it('checks events, result, state and commands sent onward', async () => {
    await fixture
      .given(onAggregate(Order, 'a-1', placed('a-1')))
      .when(new ConfirmOrder('a-1'))
      .expectEvents(new OrderConfirmed('a-1'))
      .expectResult(2)
      .expectState(Order, 'a-1', { status: 'confirmed' })
      .expectCommands(new NotifyCustomer('a-1'));
  });

  it('accepts classes, predicates and Jest matchers as expectations', async () => {
    await fixture
      .when(new PlaceOrder('a-2', [line('fig', 3)]))
      .expectEvents(OrderPlaced)
      .expectEvents((e: OrderPlaced) => e.lines[0].quantity === 3)
      .expectEvents(expect.objectContaining({ orderId: 'a-2' }))
      .expectResult(expect.objectContaining({ version: 1 }))
      .expectNoCommands();
  });

  it('fails with both lists side by side, naming the first mismatch', async () => {
    const message = await failureOf(
      fixture
        .given(onAggregate(Order, 'a-3', placed('a-3')))
        .when(new ConfirmOrder('a-3'))
        .expectEvents(new OrderConfirmed('a-99')),
    );
    expect(message).toContain('Unexpected events: events #1 differs');
    expect(message).toContain(
      "expected test.OrderConfirmed { orderId: 'a-99' }",
    );
    expect(message).toContain(
      "actual   test.OrderConfirmed { orderId: 'a-3' }",
    );
    expect(message).toContain('when: test.ConfirmOrder');
  });

  it('says how many events it expected and got, and lists them', async () => {
    const message = await failureOf(
      fixture
        .when(new PlaceOrder('a-4', [line('oat', 1)]))
        .expectEvents(placed('a-4'), new OrderConfirmed('a-4')),
    );
    expect(message).toContain('expected 2 events, got 1');
    expect(message).toMatch(
      /Expected events:\n {4}1\. test\.OrderPlaced[^\n]*\n {4}2\. test\.OrderConfirmed/,
    );
    expect(message).toMatch(/Actual events:\n {4}1\. test\.OrderPlaced/);
  });

  it('reports every failed expectation at once', async () => {
    const message = await failureOf(
      fixture
        .given(onAggregate(Order, 'a-5', placed('a-5')))
        .when(new GetOrder('a-5'))
        .expectResult({ status: 'confirmed', lines: 1, version: 1 })
        .expectState(Order, 'a-5', { status: 'confirmed' })
        .expectCommands(new NotifyCustomer('a-5')),
    );
    expect(message).toContain('Unexpected result');
    expect(message).toContain("status: expected 'confirmed', actual 'placed'");
    expect(message).toContain('expected 1 commands, got 0');
  });

  it('expects errors by class and message, and fails when none comes', async () => {
    await fixture
      .when(new PlaceOrder('', [line('rye', 1)]))
      .expectError(ValidationError, 'orderId should not be empty');
    const message = await failureOf(
      fixture
        .when(new PlaceOrder('a-6', [line('rye', 1)]))
        .expectError(ValidationError),
    );
    expect(message).toContain(
      'Expected ValidationError, but the action succeeded',
    );
  });

  it('fails when the action throws and no error was expected', async () => {
    const message = await failureOf(
      fixture.when(new ConfirmOrder('nobody')).expectNoEvents(),
    );
    expect(message).toContain(
      'The action failed unexpectedly: AggregateNotFoundError',
    );
  });

  it('needs a stream for given events', async () => {
    await expect(
      fixture
        .given(placed('a-7'))
        .when(new ConfirmOrder('a-7'))
        .expectNoEvents(),
    ).rejects.toThrow(/onAggregate\(Aggregate, id, \.\.\.events\) or onStream/);
    await fixture
      .given(onStream('test.Order-a-7', placed('a-7')))
      .when(new ConfirmOrder('a-7'))
      .expectEvents(new OrderConfirmed('a-7'));
  });

  it('builds a fixture for handlers alone', async () => {
    const small = await TestFixture.forHandlers([PlaceOrderHandler], {
      aggregates: [Order],
    });
    try {
      await small
        .when(new PlaceOrder('a-8', [line('nut', 2)]))
        .expectEvents(OrderPlaced)
        .expectResult({ orderId: 'a-8', version: 1 });
    } finally {
      await small.close();
    }
  });
});
