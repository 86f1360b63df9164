import {
  Consumer,
  Documents,
  HandleEvent,
  type StoredEvent,
} from '@chronicle/core';
import { Injectable } from '@nestjs/common';
import {
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  OrderSummary,
} from '@shop/contracts';

/**
 * Keeps the order search: one OrderSummary per order, written in the
 * consumer's transaction (exactly once). The collection is the consumer's
 * own (its documents option): a reset empties it and fills it again from
 * the events, and a new version would rebuild it beside the live one.
 */
@Consumer('order-search', { documents: [OrderSummary] })
@Injectable()
export class OrderSearch {
  constructor(private readonly documents: Documents) {}

  @HandleEvent(OrderPlaced)
  async placed(
    event: OrderPlaced,
    envelope: StoredEvent<OrderPlaced>,
  ): Promise<void> {
    await this.documents.index(OrderSummary, event.orderId, {
      orderId: event.orderId,
      customerId: event.customerId,
      status: 'placed',
      total: event.total,
      items: event.lines.map((line) => line.sku).join(' '),
      placedAt: new Date(envelope.timestamp).toISOString(),
    });
  }

  @HandleEvent(OrderConfirmed)
  async confirmed(event: OrderConfirmed): Promise<void> {
    await this.update(event.orderId, { status: 'confirmed' });
  }

  @HandleEvent(OrderCancelled)
  async cancelled(event: OrderCancelled): Promise<void> {
    await this.update(event.orderId, {
      status: 'cancelled',
      reason: event.reason,
    });
  }

  private async update(
    orderId: string,
    change: Partial<OrderSummary>,
  ): Promise<void> {
    const current = await this.documents.get(OrderSummary, orderId);
    // OrderPlaced comes first in an order's stream, and a stream is handled in order.
    if (!current) return;
    await this.documents.index(
      OrderSummary,
      orderId,
      { ...current.body, ...change },
      { expectedRevision: current.revision },
    );
  }
}
