export {
  AuthorizePaymentHandler,
  PaymentRefused,
} from './authorize-payment.handler.js';
export { CARD_LIMIT, Payment } from './payment.aggregate.js';
export { PaymentsModule } from './payments.module.js';
