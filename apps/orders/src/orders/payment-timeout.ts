import type { Duration } from '@chronicle/core';

/** How long a placed order waits for its payment; `PAYMENT_TIMEOUT` ('15m', '30s'...) changes it. */
export const PAYMENT_TIMEOUT = Symbol('orders:payment-timeout');

export const paymentTimeoutProvider = {
  provide: PAYMENT_TIMEOUT,
  useFactory: (): Duration => process.env.PAYMENT_TIMEOUT ?? '15m',
};
