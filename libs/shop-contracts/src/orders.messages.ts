import {
  Command,
  CommandType,
  Document,
  EventType,
  Query,
  QueryType,
  searchDocumentsQuery,
} from '@chronicle/core';
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

// ---- commands (handled by orders) ----

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

// ---- queries (answered by orders) ----

export type OrderStatus = 'new' | 'placed' | 'confirmed' | 'cancelled';

export interface OrderView {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly total: number;
  readonly lines: readonly OrderLineData[];
  readonly version: number;
}

@QueryType('orders.GetOrder')
export class GetOrder extends Query<OrderView> {
  @IsString()
  @IsNotEmpty()
  readonly orderId: string;

  constructor(orderId: string) {
    super();
    this.orderId = orderId;
  }
}

// ---- events (published by orders) ----

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

// ---- the order search (kept and answered by orders) ----

/** An order as the order search keeps it: found by customer, status, date, and the skus it holds. */
@Document('orders', {
  indexes: ['customerId', 'status', 'placedAt'],
  text: ['items', 'reason'],
})
export class OrderSummary {
  orderId!: string;
  customerId!: string;
  status!: OrderStatus;
  total!: number;
  /** The skus of its lines, as text to match. */
  items!: string;
  /** When it was placed (ISO text, UTC). */
  placedAt!: string;
  /** Why it was cancelled, if it was. */
  reason?: string;
}

/** The order search as a query, answered by the orders app: `remoteSearch(queryBus, SearchOrders)`. */
export const SearchOrders = searchDocumentsQuery('orders');
