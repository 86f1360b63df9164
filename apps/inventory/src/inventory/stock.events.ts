import { EventType } from '@chronicle/core';

// Inventory's own events: only its projection reads them, so they are not in the contracts.

@EventType('inventory.StockAdded')
export class StockAdded {
  constructor(
    readonly sku: string,
    readonly quantity: number,
  ) {}
}

@EventType('inventory.StockReserved')
export class StockReserved {
  constructor(
    readonly sku: string,
    readonly orderId: string,
    readonly quantity: number,
  ) {}
}

@EventType('inventory.StockReleased')
export class StockReleased {
  constructor(
    readonly sku: string,
    readonly orderId: string,
    readonly quantity: number,
  ) {}
}
