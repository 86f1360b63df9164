export { Order, OrderRuleViolated } from './order.aggregate.js';
export {
  ORDER_FULFILMENT,
  OrderFulfilment,
  PaymentTimedOut,
  type Fulfilment,
} from './order-fulfilment.process.js';
export { OrderSearch } from './order-search.projection.js';
export { OrdersModule } from './orders.module.js';
export { PAYMENT_TIMEOUT } from './payment-timeout.js';
