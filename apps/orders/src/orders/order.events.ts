import { EventType } from '@chronicle/core';

export interface OrderLineData {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
}

@EventType('orders.OrderPlaced')
export class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly lines: OrderLineData[],
    readonly total: number,
  ) {}
}

@EventType('orders.OrderConfirmed')
export class OrderConfirmed {
  constructor(readonly orderId: string) {}
}

@EventType('orders.OrderCancelled')
export class OrderCancelled {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {}
}
