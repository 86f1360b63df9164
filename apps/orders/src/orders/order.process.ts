import { CommandBus, Consumer, HandleEvent, QueryBus } from '@chronicle/core';
import { Logger } from '@nestjs/common';
import {
  CancelOrder,
  ConfirmOrder,
  GetOrder,
  PaymentAuthorized,
  PaymentDeclined,
  StockShortage,
} from '@shop/contracts';

/**
 * What orders does when the other apps report back: a paid order is
 * confirmed; a declined payment or missing stock cancels it. A consumer, not
 * an @EventsHandler: it must not miss an event, even one published while
 * orders was down.
 */
@Consumer('orders.process')
export class OrderProcess {
  private readonly logger = new Logger(OrderProcess.name);

  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @HandleEvent(PaymentAuthorized)
  async onPaymentAuthorized({ orderId }: PaymentAuthorized): Promise<void> {
    const order = await this.queries.execute(new GetOrder(orderId));
    if (order.status !== 'placed') {
      // Paid after its deadline or after a shortage: a refund's business, not a confirmation.
      this.logger.warn(`Order ${orderId} was paid while ${order.status}`);
      return;
    }
    await this.commands.execute(new ConfirmOrder(orderId));
  }

  @HandleEvent(PaymentDeclined)
  async onPaymentDeclined({ orderId, reason }: PaymentDeclined): Promise<void> {
    await this.commands.execute(
      new CancelOrder(orderId, `payment declined: ${reason}`),
    );
  }

  @HandleEvent(StockShortage)
  async onStockShortage({ orderId, sku }: StockShortage): Promise<void> {
    await this.commands.execute(
      new CancelOrder(orderId, `out of stock: ${sku}`),
    );
  }
}
