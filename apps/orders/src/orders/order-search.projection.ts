import {
  Consumer,
  Documents,
  HandleEvent,
  OnReset,
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
 * consumer's transaction (exactly once), rebuilt from the events on a reset.
 */
@Consumer('order-search')
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

  @OnReset()
  async clear(): Promise<void> {
    await this.documents.deleteWhere(OrderSummary, (all) => all);
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
