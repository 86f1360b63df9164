import { Aggregate, AggregateRoot, Apply, ErrorType } from '@chronicle/core';
import {
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  type OrderLineData,
  type OrderStatus,
} from '@shop/contracts';

/**
 * A rule of the order's life was broken (confirming a cancelled order...).
 * Declared, so a caller in another app that loads this class gets it as
 * itself; one that does not gets a RemoteHandlerError naming its type.
 */
@ErrorType('orders.OrderRuleViolated')
export class OrderRuleViolated extends Error {}

@Aggregate({ type: 'orders.Order' })
export class Order extends AggregateRoot {
  status: OrderStatus = 'new';
  total = 0;
  lines: OrderLineData[] = [];

  place(customerId: string, lines: readonly OrderLineData[]): void {
    if (this.status !== 'new')
      throw new OrderRuleViolated(`Order ${this.id} was already placed`);
    const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
    this.apply(
      new OrderPlaced(
        this.id,
        customerId,
        lines.map(({ sku, quantity, unitPrice }) => ({
          sku,
          quantity,
          unitPrice,
        })),
        total,
      ),
    );
  }

  confirm(): void {
    if (this.status !== 'placed') {
      throw new OrderRuleViolated(
        `Order ${this.id} is ${this.status}; only a placed order can be confirmed`,
      );
    }
    this.apply(new OrderConfirmed(this.id));
  }

  cancel(reason: string): void {
    if (this.status === 'cancelled') return;
    this.apply(new OrderCancelled(this.id, reason));
  }

  @Apply(OrderPlaced)
  private onPlaced(event: OrderPlaced): void {
    this.status = 'placed';
    this.total = event.total;
    this.lines = event.lines;
  }

  @Apply(OrderConfirmed)
  private onConfirmed(): void {
    this.status = 'confirmed';
  }

  @Apply(OrderCancelled)
  private onCancelled(): void {
    this.status = 'cancelled';
  }
}
