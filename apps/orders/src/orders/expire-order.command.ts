import { Command, CommandType } from '@chronicle/core';
import { IsNotEmpty, IsString } from 'class-validator';

/**
 * Orders' own command, scheduled when an order is placed: when it comes due
 * and the order is still unpaid, the order is cancelled. Only orders sends it,
 * so it is not part of the shop's contracts.
 */
@CommandType('orders.ExpireOrder')
export class ExpireOrder extends Command<void> {
  @IsString()
  @IsNotEmpty()
  readonly orderId: string;

  constructor(orderId: string) {
    super();
    this.orderId = orderId;
  }
}

/** The schedule id of an order's payment deadline: one per order, cancellable by id. */
export const paymentDeadlineOf = (orderId: string): string =>
  `orders.payment-deadline.${orderId}`;
