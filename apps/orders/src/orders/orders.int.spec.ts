import { onAggregate, TestFixture, type FixtureMode } from '@chronicle/testing';
import { RemoteHandlerError, ValidationError } from '@chronicle/core';
import {
  CancelOrder,
  ConfirmOrder,
  GetOrder,
  Order,
  OrderCancelled,
  OrderConfirmed,
  OrderLine,
  OrderPlaced,
  OrderRuleViolated,
  OrdersModule,
  PlaceOrder,
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

    it('places an order', async () => {
      await fixture
        .when(new PlaceOrder('o-1', 'ada', [OrderLine.of('tea', 2, 4.5)]))
        .expectEvents(placed('o-1'))
        .expectResult({ orderId: 'o-1', total: 9 })
        .expectState(Order, 'o-1', { status: 'placed', total: 9 });
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
      // Over the wire, a domain error arrives as a RemoteHandlerError with its class name.
      const refused =
        mode === 'embedded' ? OrderRuleViolated : RemoteHandlerError;
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
        .expectError(refused, 'only a placed order can be confirmed')
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
