import {
  onAggregate,
  onStream,
  TestFixture,
  timeElapses,
  type FixtureMode,
} from '@chronicle/testing';
import {
  EventStore,
  listProcesses,
  PostgresEventStore,
  QueryBus,
  remoteSearch,
  ValidationError,
  type ProcessInstanceOverview,
} from '@chronicle/core';
import type { INestApplicationContext } from '@nestjs/common';
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
  SearchOrders,
  StockShortage,
  type OrderSummary,
} from '@shop/contracts';
import {
  ORDER_FULFILMENT,
  Order,
  OrderRuleViolated,
  OrdersModule,
} from './index.js';

/** The order's fulfilment as `npx chronicle processes order-fulfilment --key <id>` shows it. */
async function fulfilmentOf(
  app: INestApplicationContext,
  orderId: string,
): Promise<ProcessInstanceOverview | undefined> {
  const store = app.get(EventStore) as PostgresEventStore;
  const [instance] = await listProcesses(store.client, store.schema, {
    name: ORDER_FULFILMENT,
    key: orderId,
  });
  return instance;
}

/** The handlers of the steps an order's fulfilment took, oldest first. */
const stepsOf = (instance: ProcessInstanceOverview | undefined) =>
  instance?.history.map((step) => step.handler.split(':').pop());

/**
 * The order's fulfilment, ended: a scenario settles in rounds until nothing
 * moves, so its step, the command it sent through the outbox and the order's
 * event coming back to it have all run when `when` returns.
 */
async function fulfilled(
  fixture: TestFixture,
  orderId: string,
): Promise<ProcessInstanceOverview> {
  const instance = await fulfilmentOf(fixture.app, orderId);
  if (instance?.status !== 'ended')
    throw new Error(`The fulfilment of order ${orderId} did not end`);
  return instance;
}

/** Why the order was cancelled, from its stream. */
async function cancellationOf(
  fixture: TestFixture,
  orderId: string,
): Promise<string | undefined> {
  for await (const event of fixture.app
    .get(EventStore)
    .readStream(`orders.Order-${orderId}`)) {
    if (event.type === 'orders.OrderCancelled')
      return (event.payload as { reason: string }).reason;
  }
  return undefined;
}

/** The order as GetOrder answers. */
const orderOf = (fixture: TestFixture, orderId: string) =>
  fixture.app.get(QueryBus).execute(new GetOrder(orderId));

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

    it('places an order, and its fulfilment waits for the payment until a deadline', async () => {
      await fixture
        .when(new PlaceOrder('o-1', 'ada', [OrderLine.of('tea', 2, 4.5)]))
        .expectEvents(placed('o-1'))
        .expectResult({ orderId: 'o-1', total: 9 })
        .expectState(Order, 'o-1', { status: 'placed', total: 9 })
        .expectNoCommands()
        .expectThat(async (app) => {
          const fulfilment = await fulfilmentOf(app, 'o-1');
          expect(fulfilment).toMatchObject({
            status: 'live',
            state: { stage: 'awaiting payment' },
            deadlines: [{ name: 'payment' }],
          });
          // PAYMENT_TIMEOUT's default, on the fixture's clock.
          const dueMs = Date.parse(fulfilment!.deadlines[0].dueAt);
          expect(dueMs - fixture.clock.now().getTime()).toBe(15 * 60_000);
        });
    });

    it('confirms an order once its payment is authorised, and ends its fulfilment', async () => {
      await fixture
        .given(onAggregate(Order, 'o-7', placed('o-7')))
        .when(
          onStream('payments.Payment-o-7', new PaymentAuthorized('o-7', 9)),
        );
      const fulfilment = await fulfilled(fixture, 'o-7');
      expect(stepsOf(fulfilment)).toEqual([
        'onPlaced',
        'onPaymentAuthorized',
        'onOrderConfirmed',
      ]);
      // The step that decided sent one command (ConfirmOrder); the end cancelled the deadline.
      expect(fulfilment.history[1].commands).toHaveLength(1);
      expect(fulfilment.deadlines).toEqual([]);
      expect((await orderOf(fixture, 'o-7')).status).toBe('confirmed');
    });

    it('cancels an order whose payment was declined, or whose stock is short', async () => {
      await fixture
        .given(onAggregate(Order, 'o-8', placed('o-8')))
        .when(
          onStream(
            'payments.Payment-o-8',
            new PaymentDeclined('o-8', 9, 'card limit'),
          ),
        );
      await fixture
        .given(onAggregate(Order, 'o-9', placed('o-9')))
        .when(
          onStream(
            'inventory.StockItem-tea',
            new StockShortage('o-9', 'tea', 2, 1),
          ),
        );
      for (const [orderId, reason] of [
        ['o-8', 'payment declined: card limit'],
        ['o-9', 'out of stock: tea'],
      ]) {
        const fulfilment = await fulfilled(fixture, orderId);
        expect(fulfilment.deadlines).toEqual([]);
        expect((await orderOf(fixture, orderId)).status).toBe('cancelled');
        expect(await cancellationOf(fixture, orderId)).toBe(reason);
      }
    });

    it('does not confirm a cancelled order when its payment comes late', async () => {
      await fixture
        .given(
          onAggregate(Order, 'o-10', placed('o-10')),
          new CancelOrder('o-10', 'changed mind'),
        )
        .when(
          onStream('payments.Payment-o-10', new PaymentAuthorized('o-10', 9)),
        )
        .expectNoCommands()
        .expectState(Order, 'o-10', { status: 'cancelled' })
        .expectThat(async (app) => {
          // Cancelled by the customer: the fulfilment ended with the order,
          // deadline and all, and passed the payment over.
          const fulfilment = await fulfilmentOf(app, 'o-10');
          expect(fulfilment).toMatchObject({ status: 'ended', deadlines: [] });
          expect(stepsOf(fulfilment)).toEqual(['onPlaced', 'onOrderCancelled']);
        });
    });

    it('lets the first report decide: a shortage after the payment cancels nothing', async () => {
      await fixture
        .given(onAggregate(Order, 'o-11', placed('o-11')))
        .when(
          onStream('payments.Payment-o-11', new PaymentAuthorized('o-11', 9)),
        );
      await fulfilled(fixture, 'o-11');
      await fixture
        .when(
          onStream(
            'inventory.StockItem-tea',
            new StockShortage('o-11', 'tea', 2, 1),
          ),
        )
        .expectNoCommands()
        .expectState(Order, 'o-11', { status: 'confirmed' });
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

    it('keeps the order search, answered as the SearchOrders query: by customer, status and text', async () => {
      await fixture
        .given(
          new PlaceOrder('o-30', 'fay', [OrderLine.of('marmalade', 1, 5)]),
          new PlaceOrder('o-31', 'fay', [
            OrderLine.of('tea', 1, 4.5),
            OrderLine.of('crumpet', 2, 1),
          ]),
        )
        .when(new CancelOrder('o-31', 'changed mind'))
        .expectThat(async (app) => {
          const search = () =>
            remoteSearch<OrderSummary>(app.get(QueryBus), SearchOrders).eq(
              'customerId',
              'fay',
            );
          const ids = async (found: ReturnType<typeof search>) =>
            (await found.sortBy('orderId').page()).items.map((i) => i.id);
          expect(await ids(search())).toEqual(['o-30', 'o-31']);
          expect(await ids(search().eq('status', 'cancelled'))).toEqual([
            'o-31',
          ]);
          expect(await ids(search().match('crumpets'))).toEqual(['o-31']);
          expect(await ids(search().match('changed mind'))).toEqual(['o-31']);
          expect(await search().facets('status')).toEqual(
            expect.arrayContaining([{ value: 'cancelled', count: 1 }]),
          );
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
// schedules are not shared with the tests above, and its PAYMENT_TIMEOUT is short.
describe('orders: the payment deadline', () => {
  let fixture: TestFixture;
  beforeAll(async () => {
    process.env.PAYMENT_TIMEOUT = '30s';
    fixture = await TestFixture.create({ imports: [OrdersModule] });
  });
  afterAll(async () => {
    delete process.env.PAYMENT_TIMEOUT;
    await fixture.close();
  });

  it('cancels an unpaid order when the deadline passes, and not before', async () => {
    await fixture
      .given(new PlaceOrder('o-1', 'ada', [OrderLine.of('tea', 1, 3)]))
      .when(timeElapses('29s'))
      .expectNoCommands()
      .expectNoEvents();
    await fixture
      .when(timeElapses('1s'))
      .expectCommands(new CancelOrder('o-1', 'payment not received in time'))
      .expectEvents(new OrderCancelled('o-1', 'payment not received in time'))
      .expectThat(async (app) => {
        const fulfilment = await fulfilmentOf(app, 'o-1');
        expect(fulfilment?.status).toBe('ended');
        expect(stepsOf(fulfilment)).toEqual([
          'onPlaced',
          'onPaymentTimedOut',
          'onOrderCancelled',
        ]);
      });
  });

  it('does not confirm the order when its payment comes after the deadline', async () => {
    await fixture
      .given(new PlaceOrder('o-2', 'bob', [OrderLine.of('jam', 1, 3)]))
      .when(timeElapses('30s'))
      .expectCommands(new CancelOrder('o-2', 'payment not received in time'));
    await fixture
      .when(onStream('payments.Payment-o-2', new PaymentAuthorized('o-2', 3)))
      .expectNoCommands()
      .expectEvents(new PaymentAuthorized('o-2', 3))
      .expectState(Order, 'o-2', { status: 'cancelled' });
  });

  it('leaves a paid order alone: the payment cancels the deadline', async () => {
    await fixture
      .given(new PlaceOrder('o-3', 'cy', [OrderLine.of('jam', 1, 3)]))
      .when(onStream('payments.Payment-o-3', new PaymentAuthorized('o-3', 3)));
    await fulfilled(fixture, 'o-3');
    await fixture
      .when(timeElapses('1h'))
      .expectNoCommands()
      .expectNoEvents()
      .expectState(Order, 'o-3', { status: 'confirmed' });
  });
});
