import { Command, CommandType, EventType } from '@chronicle/core';
import { IsNotEmpty, IsString } from 'class-validator';

/** What payments decided: the order's total, authorised or declined. */
export interface PaymentOutcome {
  readonly orderId: string;
  readonly amount: number;
  readonly status: 'authorized' | 'declined';
  readonly reason?: string;
}

/** The customer pays for a placed order; payments charges the order's total. */
@CommandType('payments.AuthorizePayment')
export class AuthorizePayment extends Command<PaymentOutcome> {
  @IsString()
  @IsNotEmpty()
  readonly orderId: string;

  constructor(orderId: string) {
    super();
    this.orderId = orderId;
  }
}

@EventType('payments.PaymentAuthorized')
export class PaymentAuthorized {
  constructor(
    readonly orderId: string,
    readonly amount: number,
  ) {}
}

@EventType('payments.PaymentDeclined')
export class PaymentDeclined {
  constructor(
    readonly orderId: string,
    readonly amount: number,
    readonly reason: string,
  ) {}
}
