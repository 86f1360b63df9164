import { Injectable } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@chronicle/core';
import { onAggregate, TestFixture, type FixtureMode } from '@chronicle/testing';
import {
  AuthorizePayment,
  GetOrder,
  PaymentAuthorized,
  PaymentDeclined,
  type OrderView,
} from '@shop/contracts';
import { Payment, PaymentRefused, PaymentsModule } from './index.js';

/** Orders, as payments sees it: a GetOrder answer for a few known orders. */
const orders: Record<string, Pick<OrderView, 'status' | 'total'>> = {
  'o-1': { status: 'placed', total: 120 },
  'o-2': { status: 'placed', total: 600 },
  'o-3': { status: 'cancelled', total: 20 },
  'o-4': { status: 'placed', total: 500 },
};

@Injectable()
@QueryHandler(GetOrder)
class OrdersStandIn implements IQueryHandler<GetOrder> {
  async execute({ orderId }: GetOrder): Promise<OrderView> {
    return { orderId, lines: [], version: 1, ...orders[orderId] };
  }
}

describe.each<FixtureMode>(['embedded', 'integration'])(
  'payments (%s)',
  (mode) => {
    let fixture: TestFixture;
    beforeAll(async () => {
      fixture = await TestFixture.create({
        imports: [PaymentsModule],
        providers: [OrdersStandIn],
        mode,
      });
    });
    afterAll(() => fixture.close());

    it("authorises the order's total, asked of orders", async () => {
      await fixture
        .when(new AuthorizePayment('o-1'))
        .expectEvents(new PaymentAuthorized('o-1', 120))
        .expectResult({ orderId: 'o-1', amount: 120, status: 'authorized' });
    });

    it('declines a total over the card limit, and accepts one at it', async () => {
      await fixture
        .when(new AuthorizePayment('o-2'))
        .expectEvents(
          new PaymentDeclined('o-2', 600, '600 is over the card limit of 500'),
        )
        .expectResult(expect.objectContaining({ status: 'declined' }));
      await fixture
        .when(new AuthorizePayment('o-4'))
        .expectEvents(new PaymentAuthorized('o-4', 500));
    });

    it('decides once: paying again returns the first outcome', async () => {
      await fixture
        .given(onAggregate(Payment, 'o-5', new PaymentAuthorized('o-5', 7)))
        .when(new AuthorizePayment('o-5'))
        .expectNoEvents()
        .expectResult({ orderId: 'o-5', amount: 7, status: 'authorized' });
    });

    it('refuses to charge an order that is not waiting for payment', async () => {
      await fixture
        .when(new AuthorizePayment('o-3'))
        .expectError(
          PaymentRefused,
          'Order o-3 is cancelled, not awaiting payment',
        )
        .expectNoEvents();
    });
  },
);
