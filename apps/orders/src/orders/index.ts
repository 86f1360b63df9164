export {
  Order,
  OrderRuleViolated,
  type OrderStatus,
} from './order.aggregate.js';
export {
  CancelOrder,
  ConfirmOrder,
  OrderLine,
  PlaceOrder,
} from './order.commands.js';
export { OrderCancelled, OrderConfirmed, OrderPlaced } from './order.events.js';
export { GetOrder, type OrderView } from './order.queries.js';
export { OrdersModule } from './orders.module.js';
