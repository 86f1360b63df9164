export { ExpireOrder, paymentDeadlineOf } from './expire-order.command.js';
export { Order, OrderRuleViolated } from './order.aggregate.js';
export { OrderProcess } from './order.process.js';
export { OrdersModule } from './orders.module.js';
export { PAYMENT_TIMEOUT } from './payment-timeout.js';
