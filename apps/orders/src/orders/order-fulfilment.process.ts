import {
  EventType,
  Handles,
  ProcessManager,
  ProcessManagerBase,
  StartedBy,
  type Duration,
} from '@chronicle/core';
import { Inject, Logger } from '@nestjs/common';
import {
  CancelOrder,
  ConfirmOrder,
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  PaymentAuthorized,
  PaymentDeclined,
  StockShortage,
} from '@shop/contracts';
import { PAYMENT_TIMEOUT } from './payment-timeout.js';

/** The name the instances are stored under: `npx chronicle processes order-fulfilment`. */
export const ORDER_FULFILMENT = 'order-fulfilment';

/**
 * An order's payment deadline, handed back to its fulfilment when it passes.
 * Orders' own message (never appended to a stream), so not in the contracts.
 */
@EventType('orders.PaymentTimedOut')
export class PaymentTimedOut {
  constructor(readonly orderId: string) {}
}

/** One order's fulfilment, as stored between its steps (JSON). */
export interface Fulfilment {
  /**
   * `awaiting payment` until the first report decides the order; then the
   * command sent for it, until the order's own event says it happened.
   */
  stage: 'awaiting payment' | 'confirming' | 'cancelling';
}

/**
 * What happens to a placed order: a payment confirms it; a declined payment,
 * a stock shortage or a payment deadline passing cancels it. The first of
 * these decides; what comes later is logged and left alone (a payment after a
 * cancellation is a refund's business, not a confirmation). The instance ends
 * when the order is confirmed or cancelled, by it or by anyone else, and
 * with it the deadline. It starts at the end of the log (the default): an
 * app deployed on a store with history follows the orders placed from then
 * on, and sends nothing again for old ones.
 */
@ProcessManager(ORDER_FULFILMENT)
export class OrderFulfilment extends ProcessManagerBase<Fulfilment> {
  private readonly logger = new Logger(OrderFulfilment.name);

  constructor(
    @Inject(PAYMENT_TIMEOUT) private readonly paymentTimeout: Duration,
  ) {
    super();
  }

  initialState(): Fulfilment {
    return { stage: 'awaiting payment' };
  }

  @StartedBy(OrderPlaced, { key: 'orderId' })
  onPlaced({ orderId }: OrderPlaced): void {
    this.deadline('payment', this.paymentTimeout, new PaymentTimedOut(orderId));
  }

  @Handles(PaymentAuthorized, { key: 'orderId' })
  onPaymentAuthorized({ orderId }: PaymentAuthorized): void {
    if (!this.undecided('paid')) return;
    this.cancelDeadline('payment');
    this.send(new ConfirmOrder(orderId));
    this.state.stage = 'confirming';
  }

  @Handles(PaymentDeclined, { key: 'orderId' })
  onPaymentDeclined({ orderId, reason }: PaymentDeclined): void {
    if (this.undecided('declined'))
      this.cancel(orderId, `payment declined: ${reason}`);
  }

  @Handles(StockShortage, { key: 'orderId' })
  onStockShortage({ orderId, sku }: StockShortage): void {
    if (this.undecided(`short of ${sku}`))
      this.cancel(orderId, `out of stock: ${sku}`);
  }

  @Handles(PaymentTimedOut, { key: 'orderId' })
  onPaymentTimedOut({ orderId }: PaymentTimedOut): void {
    // Paying, a decline or a shortage cancel the deadline: it only comes while the order waits.
    this.cancel(orderId, 'payment not received in time');
  }

  @Handles(OrderConfirmed, { key: 'orderId' })
  onOrderConfirmed(): void {
    this.end();
  }

  @Handles(OrderCancelled, { key: 'orderId' })
  onOrderCancelled(): void {
    this.end();
  }

  /** Whether the order still waits to be decided; if not, says what came late. */
  private undecided(what: string): boolean {
    if (this.state.stage === 'awaiting payment') return true;
    this.logger.warn(
      `Order ${this.key} was ${what} while ${this.state.stage}: left alone`,
    );
    return false;
  }

  private cancel(orderId: string, reason: string): void {
    this.cancelDeadline('payment');
    this.send(new CancelOrder(orderId, reason));
    this.state.stage = 'cancelling';
  }
}
