import {
  Command,
  CommandHandler,
  CommandType,
  EventType,
  ScheduleType,
  newMessageId,
  type ICommandHandler,
  type StreamAppend,
} from '@chronicle/core';
import { Injectable } from '@nestjs/common';

// Order fulfilment, for the processes benchmark: three events per order
// (placed, paid, stock reserved), two commands per order (a payment request
// when placed, a shipment when the stock is reserved) and a payment timeout
// set when placed and cancelled when paid. The process manager and the
// hand-written consumers of bench/benchmarks/processes.ts drive the same
// orders through it.

@EventType('bench.OrderPlaced')
export class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly total: number,
  ) {}
}

@EventType('bench.PaymentAuthorized')
export class PaymentAuthorized {
  constructor(
    readonly orderId: string,
    readonly amount: number,
  ) {}
}

@EventType('bench.StockReserved')
export class StockReserved {
  constructor(
    readonly orderId: string,
    readonly sku: string,
  ) {}
}

/** The process manager's payment deadline: an event delivered back to its instance. */
@EventType('bench.PaymentTimedOut')
export class PaymentTimedOut {
  constructor(readonly orderId: string) {}
}

/** The hand-written consumers' payment timeout: a schedule payload. */
@ScheduleType('bench.PaymentTimeout')
export class PaymentTimeout {
  constructor(readonly orderId: string) {}
}

@CommandType('bench.RequestPayment')
export class RequestPayment extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly total: number,
  ) {
    super();
  }
}

@CommandType('bench.ShipOrder')
export class ShipOrder extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

/** Sent when the payment timed out: never due within a benchmark round. */
@CommandType('bench.CancelOrder')
export class CancelOrder extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

/** The commands an app's handlers received; one per app (each app has its own provider). */
@Injectable()
export class Deliveries {
  count = 0;
}

@CommandHandler(RequestPayment)
export class RequestPaymentHandler implements ICommandHandler<RequestPayment> {
  constructor(private readonly deliveries: Deliveries) {}
  execute(): Promise<void> {
    this.deliveries.count++;
    return Promise.resolve();
  }
}

@CommandHandler(ShipOrder)
export class ShipOrderHandler implements ICommandHandler<ShipOrder> {
  constructor(private readonly deliveries: Deliveries) {}
  execute(): Promise<void> {
    this.deliveries.count++;
    return Promise.resolve();
  }
}

@CommandHandler(CancelOrder)
export class CancelOrderHandler implements ICommandHandler<CancelOrder> {
  constructor(private readonly deliveries: Deliveries) {}
  execute(): Promise<void> {
    this.deliveries.count++;
    return Promise.resolve();
  }
}

export const FULFILMENT_HANDLERS = [
  Deliveries,
  RequestPaymentHandler,
  ShipOrderHandler,
  CancelOrderHandler,
];

const event = (type: string, payload: Record<string, unknown>) => ({
  id: newMessageId(),
  type,
  revision: 1,
  payload,
  metadata: { correlationId: newMessageId() },
  timestamp: new Date(),
});

/** Streams per kind of event: few enough that one transaction may append a whole round. */
const STREAMS = 100;

/**
 * The events of orders `${prefix}-${from}` .. `${prefix}-${from + count - 1}`:
 * their placements, then their payments, then their reservations, each kind
 * spread over STREAMS streams (what associates them is the order id in the
 * payload, not the stream).
 */
export function fulfilmentEvents(
  prefix: string,
  from: number,
  count: number,
): StreamAppend[] {
  const kinds = [
    ['bench.Order', 'bench.OrderPlaced'],
    ['bench.Payment', 'bench.PaymentAuthorized'],
    ['bench.Stock', 'bench.StockReserved'],
  ] as const;
  const payload = (type: string, orderId: string, n: number) =>
    type === 'bench.OrderPlaced'
      ? { orderId, total: 42 + (n % 100) }
      : type === 'bench.PaymentAuthorized'
        ? { orderId, amount: 42 + (n % 100) }
        : { orderId, sku: `sku-${n % 10}` };
  const appends: StreamAppend[] = [];
  for (const [stream, type] of kinds) {
    const byStream = new Map<string, ReturnType<typeof event>[]>();
    for (let n = from; n < from + count; n++) {
      const streamId = `${stream}-${prefix}-${n % STREAMS}`;
      const events = byStream.get(streamId) ?? [];
      events.push(event(type, payload(type, `${prefix}-${n}`, n)));
      byStream.set(streamId, events);
    }
    for (const [streamId, events] of byStream)
      appends.push({ streamId, expectedVersion: 'any', events });
  }
  return appends;
}
