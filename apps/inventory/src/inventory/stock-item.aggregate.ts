import { Aggregate, AggregateRoot, Apply } from '@chronicle/core';
import { StockShortage } from '@shop/contracts';
import { StockAdded, StockReleased, StockReserved } from './stock.events.js';

/** One SKU's stock (the stream id is the SKU): what is on hand, and what each order holds of it. */
@Aggregate({ type: 'inventory.StockItem' })
export class StockItem extends AggregateRoot {
  onHand = 0;
  reservations: Record<string, number> = {};

  get reserved(): number {
    return Object.values(this.reservations).reduce((sum, n) => sum + n, 0);
  }

  get available(): number {
    return this.onHand - this.reserved;
  }

  add(quantity: number): void {
    this.apply(new StockAdded(this.id, quantity));
  }

  /** Whether the order holds this SKU already, or could: a re-sent reservation is no shortage. */
  canReserve(orderId: string, quantity: number): boolean {
    return orderId in this.reservations || this.available >= quantity;
  }

  /** Holds `quantity` for the order; an order holds a SKU at most once. */
  reserve(orderId: string, quantity: number): void {
    if (orderId in this.reservations) return;
    this.apply(new StockReserved(this.id, orderId, quantity));
  }

  /** Records that the order wanted more than there is; nothing is held. */
  reportShortage(orderId: string, requested: number): void {
    this.apply(new StockShortage(orderId, this.id, requested, this.available));
  }

  /** Gives back what the order held, if anything. */
  release(orderId: string): void {
    const quantity = this.reservations[orderId];
    if (quantity !== undefined)
      this.apply(new StockReleased(this.id, orderId, quantity));
  }

  @Apply(StockAdded)
  private onAdded({ quantity }: StockAdded): void {
    this.onHand += quantity;
  }

  @Apply(StockReserved)
  private onReserved({ orderId, quantity }: StockReserved): void {
    this.reservations = { ...this.reservations, [orderId]: quantity };
  }

  @Apply(StockReleased)
  private onReleased({ orderId }: StockReleased): void {
    const { [orderId]: _released, ...rest } = this.reservations;
    this.reservations = rest;
  }
}
