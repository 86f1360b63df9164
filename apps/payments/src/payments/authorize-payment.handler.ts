import {
  AggregateRepository,
  CommandHandler,
  ErrorType,
  InjectAggregateRepository,
  QueryBus,
  type ICommandHandler,
} from '@chronicle/core';
import {
  AuthorizePayment,
  GetOrder,
  type PaymentOutcome,
} from '@shop/contracts';
import { Payment } from './payment.aggregate.js';

/** An order that cannot be paid for (unknown, cancelled, already confirmed). */
@ErrorType('payments.PaymentRefused')
export class PaymentRefused extends Error {}

@CommandHandler(AuthorizePayment)
export class AuthorizePaymentHandler implements ICommandHandler<AuthorizePayment> {
  constructor(
    @InjectAggregateRepository(Payment)
    private readonly payments: AggregateRepository<Payment>,
    private readonly queries: QueryBus,
  ) {}

  async execute({ orderId }: AuthorizePayment): Promise<PaymentOutcome> {
    const payment = await this.payments.loadOrCreate(orderId);
    if (payment.outcome) return payment.outcome;
    // The amount is the order's, asked of orders (wherever it runs), not the caller's word.
    const order = await this.queries.execute(new GetOrder(orderId));
    if (order.status !== 'placed')
      throw new PaymentRefused(
        `Order ${orderId} is ${order.status}, not awaiting payment`,
      );
    const outcome = payment.authorize(order.total);
    await this.payments.save(payment);
    return outcome;
  }
}
