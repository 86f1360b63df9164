import { Command, CommandType } from '@chronicle/core';
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsInt,
  IsNotEmpty,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';

// Inventory's own commands, sent by its reservations consumer.

export class StockRequest {
  @IsString()
  @IsNotEmpty()
  sku: string;

  @IsInt()
  @Min(1)
  quantity: number;
}

/** Hold an order's lines: all of them, or none when one SKU falls short. */
@CommandType('inventory.ReserveStock')
export class ReserveStock extends Command<{ reserved: boolean }> {
  @IsString()
  @IsNotEmpty()
  readonly orderId: string;

  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => StockRequest)
  readonly lines: StockRequest[];

  constructor(orderId: string, lines: StockRequest[]) {
    super();
    this.orderId = orderId;
    this.lines = lines;
  }
}

/** Give back what an order holds of these SKUs. */
@CommandType('inventory.ReleaseStock')
export class ReleaseStock extends Command<void> {
  @IsString()
  @IsNotEmpty()
  readonly orderId: string;

  @IsString({ each: true })
  readonly skus: string[];

  constructor(orderId: string, skus: string[]) {
    super();
    this.orderId = orderId;
    this.skus = skus;
  }
}
