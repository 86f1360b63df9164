import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { Order } from './order.aggregate.js';
import {
  CancelOrderHandler,
  ConfirmOrderHandler,
  ExpireOrderHandler,
  GetOrderHandler,
  PlaceOrderHandler,
} from './order.handlers.js';
import { OrderProcess } from './order.process.js';
import { paymentTimeoutProvider } from './payment-timeout.js';

/** Orders: places, confirms and cancels orders; a placed order waits for its payment until a deadline. */
@Module({
  imports: [ChronicleModule.forFeature([Order])],
  providers: [
    paymentTimeoutProvider,
    PlaceOrderHandler,
    ConfirmOrderHandler,
    CancelOrderHandler,
    ExpireOrderHandler,
    GetOrderHandler,
    OrderProcess,
  ],
})
export class OrdersModule {}
