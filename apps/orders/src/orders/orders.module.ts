import { ChronicleModule, searchDocumentsHandler } from '@chronicle/core';
import { OrderSummary } from '@shop/contracts';
import { Module } from '@nestjs/common';
import { Order } from './order.aggregate.js';
import { OrderFulfilment } from './order-fulfilment.process.js';
import {
  CancelOrderHandler,
  ConfirmOrderHandler,
  GetOrderHandler,
  PlaceOrderHandler,
} from './order.handlers.js';
import { OrderSearch } from './order-search.projection.js';
import { paymentTimeoutProvider } from './payment-timeout.js';

/**
 * Orders: places, confirms and cancels orders; the order-fulfilment process
 * manager decides each placed order from what payments and inventory report,
 * or cancels it when its payment deadline passes. It owns the order search
 * (collection `orders`): filled by the OrderSearch consumer, answered as SearchOrders.
 */
@Module({
  imports: [ChronicleModule.forFeature([Order])],
  providers: [
    paymentTimeoutProvider,
    PlaceOrderHandler,
    ConfirmOrderHandler,
    CancelOrderHandler,
    GetOrderHandler,
    OrderFulfilment,
    OrderSearch,
    searchDocumentsHandler(OrderSummary),
  ],
})
export class OrdersModule {}
