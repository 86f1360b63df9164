import { Aggregate, AggregateRoot, Apply } from '@chronicle/core';
import {
  PaymentAuthorized,
  PaymentDeclined,
  type PaymentOutcome,
} from '@shop/contracts';

/** Card payments above this are declined: the shop's way of failing some on purpose. */
export const CARD_LIMIT = 500;

/** One order's payment (the stream id is the order id): decided once. */
@Aggregate({ type: 'payments.Payment' })
export class Payment extends AggregateRoot {
  outcome?: PaymentOutcome;

  /** Authorises the amount, or declines it over the limit; a decided payment stays decided. */
  authorize(amount: number): PaymentOutcome {
    if (!this.outcome) {
      this.apply(
        amount > CARD_LIMIT
          ? new PaymentDeclined(
              this.id,
              amount,
              `${amount} is over the card limit of ${CARD_LIMIT}`,
            )
          : new PaymentAuthorized(this.id, amount),
      );
    }
    return this.outcome!;
  }

  @Apply(PaymentAuthorized)
  private onAuthorized({ orderId, amount }: PaymentAuthorized): void {
    this.outcome = { orderId, amount, status: 'authorized' };
  }

  @Apply(PaymentDeclined)
  private onDeclined({ orderId, amount, reason }: PaymentDeclined): void {
    this.outcome = { orderId, amount, status: 'declined', reason };
  }
}
