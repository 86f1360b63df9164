import { Aggregate, AggregateRoot, Apply } from '@chronicle/core';
import type { OrderLine } from './order.commands.js';
import { OrderCancelled, OrderConfirmed, OrderPlaced } from './order.events.js';

export type OrderStatus = 'new' | 'placed' | 'confirmed' | 'cancelled';

export class OrderRuleViolated extends Error {}

@Aggregate({ type: 'orders.Order' })
export class Order extends AggregateRoot {
  status: OrderStatus = 'new';
  total = 0;

  place(customerId: string, lines: OrderLine[]): void {
    if (this.status !== 'new')
      throw new OrderRuleViolated(`Order ${this.id} was already placed`);
    const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
    this.apply(
      new OrderPlaced(
        this.id,
        customerId,
        lines.map((l) => ({ ...l })),
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
