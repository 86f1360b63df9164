import {
  Command,
  CommandType,
  EventType,
  Query,
  QueryType,
} from '@chronicle/core';
import { IsInt, IsNotEmpty, IsString, Min } from 'class-validator';

/** Goods arrive: more of a SKU on hand. */
@CommandType('inventory.AddStock')
export class AddStock extends Command<{ sku: string; onHand: number }> {
  @IsString()
  @IsNotEmpty()
  readonly sku: string;

  @IsInt()
  @Min(1)
  readonly quantity: number;

  constructor(sku: string, quantity: number) {
    super();
    this.sku = sku;
    this.quantity = quantity;
  }
}

/** One row of the stock-levels projection. */
export interface StockLevelView {
  readonly sku: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly available: number;
}

/** Every SKU's stock, from the inventory's read model (eventually consistent). */
@QueryType('inventory.GetStockLevels')
export class GetStockLevels extends Query<StockLevelView[]> {}

/** An order asked for more than is available: inventory reserved none of it. */
@EventType('inventory.StockShortage')
export class StockShortage {
  constructor(
    readonly orderId: string,
    readonly sku: string,
    readonly requested: number,
    readonly available: number,
  ) {}
}
