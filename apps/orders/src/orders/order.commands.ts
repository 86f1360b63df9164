import { Command, CommandType } from '@chronicle/core';
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsInt,
  IsNotEmpty,
  IsPositive,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';

export class OrderLine {
  @IsString()
  @IsNotEmpty()
  sku: string;

  @IsInt()
  @Min(1)
  quantity: number;

  @IsPositive()
  unitPrice: number;

  static of(sku: string, quantity: number, unitPrice: number): OrderLine {
    return Object.assign(new OrderLine(), { sku, quantity, unitPrice });
  }
}

@CommandType('orders.PlaceOrder')
export class PlaceOrder extends Command<{ orderId: string; total: number }> {
  @IsString()
  @IsNotEmpty()
  readonly orderId: string;

  @IsString()
  @IsNotEmpty()
  readonly customerId: string;

  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => OrderLine)
  readonly lines: OrderLine[];

  constructor(orderId: string, customerId: string, lines: OrderLine[]) {
    super();
    this.orderId = orderId;
    this.customerId = customerId;
    this.lines = lines;
  }
}

@CommandType('orders.ConfirmOrder')
export class ConfirmOrder extends Command<void> {
  @IsString()
  @IsNotEmpty()
  readonly orderId: string;

  constructor(orderId: string) {
    super();
    this.orderId = orderId;
  }
}

@CommandType('orders.CancelOrder')
export class CancelOrder extends Command<void> {
  @IsString()
  @IsNotEmpty()
  readonly orderId: string;

  @IsString()
  @IsNotEmpty()
  readonly reason: string;

  constructor(orderId: string, reason: string) {
    super();
    this.orderId = orderId;
    this.reason = reason;
  }
}
