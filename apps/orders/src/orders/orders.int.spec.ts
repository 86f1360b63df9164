import {
  onAggregate,
  onStream,
  TestFixture,
  timeElapses,
  type FixtureMode,
} from '@chronicle/testing';
import { ValidationError } from '@chronicle/core';
import {
  CancelOrder,
  ConfirmOrder,
  GetOrder,
  OrderCancelled,
  OrderConfirmed,
  OrderLine,
  OrderPlaced,
  PaymentAuthorized,
  PaymentDeclined,
  PlaceOrder,
  StockShortage,
} from '@shop/contracts';
import {
  ExpireOrder,
  Order,
  OrderRuleViolated,
  OrdersModule,
} from './index.js';

// The orders domain, given-when-then; the same spec runs embedded and on
// real PostgreSQL and NATS.
describe.each<FixtureMode>(['embedded', 'integration'])(
  'orders (%s)',
  (mode) => {
    let fixture: TestFixture;
    beforeAll(async () => {
      fixture = await TestFixture.create({ imports: [OrdersModule], mode });
    });
    afterAll(() => fixture.close());

    const placed = (id: string) =>
      new OrderPlaced(
        id,
        'ada',
        [{ sku: 'tea', quantity: 2, unitPrice: 4.5 }],
        9,
      );

    it('places an order, with a payment deadline', async () => {
      await fixture
        .when(new PlaceOrder('o-1', 'ada', [OrderLine.of('tea', 2, 4.5)]))
        .expectEvents(placed('o-1'))
        .expectResult({ orderId: 'o-1', total: 9 })
        .expectState(Order, 'o-1', { status: 'placed', total: 9 })
        .expectSchedules(new ExpireOrder('o-1'));
    });

    it('confirms an order once its payment is authorised', async () => {
      await fixture
        .given(onAggregate(Order, 'o-7', placed('o-7')))
        .when(onStream('payments.Payment-o-7', new PaymentAuthorized('o-7', 9)))
        .expectCommands(new ConfirmOrder('o-7'))
        .expectState(Order, 'o-7', { status: 'confirmed' });
    });

    it('cancels an order whose payment was declined, or whose stock is short', async () => {
      await fixture
        .given(onAggregate(Order, 'o-8', placed('o-8')))
        .when(
          onStream(
            'payments.Payment-o-8',
            new PaymentDeclined('o-8', 9, 'card limit'),
          ),
        )
        .expectCommands(new CancelOrder('o-8', 'payment declined: card limit'));
      await fixture
        .given(onAggregate(Order, 'o-9', placed('o-9')))
        .when(
          onStream(
            'inventory.StockItem-tea',
            new StockShortage('o-9', 'tea', 2, 1),
          ),
        )
        .expectCommands(new CancelOrder('o-9', 'out of stock: tea'))
        .expectState(Order, 'o-9', { status: 'cancelled' });
    });

    it('leaves an order that is no longer placed alone when its payment comes late', async () => {
      await fixture
        .given(
          onAggregate(
            Order,
            'o-10',
            placed('o-10'),
            new OrderCancelled('o-10', 'late'),
          ),
        )
        .when(
          onStream('payments.Payment-o-10', new PaymentAuthorized('o-10', 9)),
        )
        .expectNoCommands()
        .expectState(Order, 'o-10', { status: 'cancelled' });
    });

    it('confirms a placed order', async () => {
      await fixture
        .given(onAggregate(Order, 'o-2', placed('o-2')))
        .when(new ConfirmOrder('o-2'))
        .expectEvents(new OrderConfirmed('o-2'))
        .expectState(
          Order,
          'o-2',
          (order) => order.status === 'confirmed' && order.version === 2,
        );
    });

    it('refuses to confirm a cancelled order, and changes nothing', async () => {
      // A declared error (@ErrorType) arrives as its own class, in process and over the wire.
      await fixture
        .given(
          onAggregate(
            Order,
            'o-3',
            placed('o-3'),
            new OrderCancelled('o-3', 'no stock'),
          ),
        )
        .when(new ConfirmOrder('o-3'))
        .expectError(OrderRuleViolated, 'only a placed order can be confirmed')
        .expectNoEvents();
    });

    it('builds history from commands too', async () => {
      await fixture
        .given(new PlaceOrder('o-4', 'bob', [OrderLine.of('jam', 1, 3)]))
        .when(new CancelOrder('o-4', 'changed mind'))
        .expectEvents(new OrderCancelled('o-4', 'changed mind'));
    });

    it('answers queries', async () => {
      await fixture
        .given(onAggregate(Order, 'o-5', placed('o-5')))
        .when(new GetOrder('o-5'))
        .expectResult({
          orderId: 'o-5',
          status: 'placed',
          total: 9,
          lines: [{ sku: 'tea', quantity: 2, unitPrice: 4.5 }],
          version: 1,
        });
    });

    it('validates commands', async () => {
      await fixture
        .when(new PlaceOrder('o-6', 'ada', []))
        .expectError(ValidationError, /lines/)
        .expectNoEvents();
    });
  },
);

// The payment deadline, on a fixture of its own: its clock and pending
// schedules are not shared with the tests above.
describe('orders: the payment deadline', () => {
  let fixture: TestFixture;
  beforeAll(async () => {
    fixture = await TestFixture.create({ imports: [OrdersModule] });
  });
  afterAll(() => fixture.close());

  it('cancels an unpaid order when the deadline passes, and not before', async () => {
    await fixture
      .given(new PlaceOrder('o-1', 'ada', [OrderLine.of('tea', 1, 3)]))
      .when(timeElapses('14m'))
      .expectNoEvents();
    await fixture
      .when(timeElapses('1m'))
      .expectCommands(new ExpireOrder('o-1'))
      .expectEvents(new OrderCancelled('o-1', 'payment not received in time'));
  });

  it('leaves a confirmed order alone: confirming cancels the deadline', async () => {
    await fixture
      .given(
        new PlaceOrder('o-2', 'bob', [OrderLine.of('jam', 1, 3)]),
        new ConfirmOrder('o-2'),
      )
      .when(timeElapses('1h'))
      .expectNoCommands()
      .expectNoEvents()
      .expectState(Order, 'o-2', { status: 'confirmed' });
  });
});
