import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { Order } from './order.aggregate.js';
import {
  CancelOrderHandler,
  ConfirmOrderHandler,
  GetOrderHandler,
  PlaceOrderHandler,
} from './order.handlers.js';

@Module({
  imports: [ChronicleModule.forFeature([Order])],
  providers: [
    PlaceOrderHandler,
    ConfirmOrderHandler,
    CancelOrderHandler,
    GetOrderHandler,
  ],
})
export class OrdersModule {}
