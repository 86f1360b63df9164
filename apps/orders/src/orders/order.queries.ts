import { Query, QueryType } from '@chronicle/core';
import { IsNotEmpty, IsString } from 'class-validator';
import type { OrderStatus } from './order.aggregate.js';

export interface OrderView {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly total: number;
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
