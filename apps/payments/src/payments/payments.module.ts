import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { AuthorizePaymentHandler } from './authorize-payment.handler.js';
import { Payment } from './payment.aggregate.js';

/** Payments: authorises an order's total, or declines it over the card limit. */
@Module({
  imports: [ChronicleModule.forFeature([Payment])],
  providers: [AuthorizePaymentHandler],
})
export class PaymentsModule {}
