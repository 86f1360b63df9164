import {
  Module,
  type INestApplicationContext,
  type Provider,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  Command,
  CommandHandler,
  CommandType,
  EventType,
  Handles,
  ManualClock,
  MessageContext,
  OnCommandFailed,
  ProcessManager,
  ProcessManagerBase,
  StartedBy,
  newMessageId,
  type HandlingFailed,
  type ICommandHandler,
  type NewEvent,
  type SqlClient,
} from '../src/index.js';
import { FAST_TRACKING } from './tracking.fixture.js';

// An order fulfilment process manager and the card service it talks to.

@EventType('pm.OrderPlaced')
export class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly amount: number,
  ) {}
}

@EventType('pm.PaymentAuthorized')
export class PaymentAuthorized {
  constructor(readonly orderId: string) {}
}

@EventType('pm.OrderShipped')
export class OrderShipped {
  constructor(readonly order: { readonly id: string }) {}
}

/** The payment deadline of an order, delivered back to its instance. */
@EventType('pm.PaymentTimedOut')
export class PaymentTimedOut {
  constructor(readonly orderId: string) {}
}

/** The instances whose payment deadline ran, in order. */
export const deadlines = { timedOut: [] as string[] };

@CommandType('pm.ChargeCard')
export class ChargeCard extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly amount: number,
  ) {
    super();
  }
}

/** A refund the card service always refuses. */
@CommandType('pm.RefundCard')
export class RefundCard extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

@EventType('pm.RefundRequested')
export class RefundRequested {
  constructor(readonly orderId: string) {}
}

/** Refunds entered, and a gate a test may set to hold them before they fail. */
export const refunds = {
  entered: 0,
  gate: undefined as Promise<void> | undefined,
};

@CommandHandler(RefundCard)
export class RefundCardHandler implements ICommandHandler<RefundCard> {
  async execute(command: RefundCard): Promise<void> {
    refunds.entered++;
    await refunds.gate;
    throw new Error(`no refunds for ${command.orderId}`);
  }
}

/** Every delivery of ChargeCard that ran its handler: the command's id and order. */
export const card = {
  charged: [] as { readonly id: string; readonly orderId: string }[],
};

@CommandHandler(ChargeCard)
export class ChargeCardHandler implements ICommandHandler<ChargeCard> {
  async execute(command: ChargeCard): Promise<void> {
    card.charged.push({
      id: MessageContext.current()?.id ?? 'none',
      orderId: command.orderId,
    });
  }
}

export interface FulfilmentState {
  readonly orderId: string;
  amount: number;
  paid: boolean;
  readonly seen: string[];
}

/** Orders whose OrderPlaced step throws once after sending, as a crash before the commit would. */
export const flaky = { failOnce: new Set<string>(), attempts: 0 };

// Three segments by order id: an order's events come from several streams.
@ProcessManager('order-fulfilment', {
  segments: 3,
  maxAttempts: 3,
  retryDelayMs: 10,
  onError: 'skip',
})
export class OrderFulfilment extends ProcessManagerBase<FulfilmentState> {
  initialState(): FulfilmentState {
    return { orderId: '', amount: 0, paid: false, seen: [] };
  }

  @StartedBy(OrderPlaced, { key: 'orderId' })
  onPlaced(event: OrderPlaced): void {
    flaky.attempts++;
    if (this.state.orderId === '')
      this.state = { ...this.state, orderId: event.orderId };
    this.state.amount += event.amount;
    this.state.seen.push('placed');
    this.send(new ChargeCard(event.orderId, event.amount));
    this.deadline('payment', '15m', new PaymentTimedOut(event.orderId));
    if (flaky.failOnce.delete(event.orderId))
      throw new Error(`crash after sending for ${event.orderId}`);
  }

  @Handles(PaymentAuthorized, { key: 'orderId' })
  onPaid(): void {
    this.cancelDeadline('payment');
    this.state.paid = true;
    this.state.seen.push(`paid:${this.key}`);
  }

  @Handles(PaymentTimedOut, { key: 'orderId' })
  onPaymentTimedOut(): void {
    deadlines.timedOut.push(this.key);
    this.state.seen.push('timed-out');
  }

  @Handles(RefundRequested, { key: 'orderId' })
  onRefundRequested(event: RefundRequested): void {
    this.send(new RefundCard(event.orderId));
  }

  @OnCommandFailed(RefundCard)
  onRefundFailed(failed: HandlingFailed): void {
    this.state.seen.push(`refund failed: ${failed.error.message}`);
  }

  @Handles(OrderShipped, { key: (event) => event.order.id })
  onShipped(): void {
    this.state.seen.push('shipped');
    this.end();
  }
}

export function placed(orderId: string, amount: number): NewEvent {
  return newEvent('pm.OrderPlaced', { orderId, amount });
}

export function paid(orderId: string): NewEvent {
  return newEvent('pm.PaymentAuthorized', { orderId });
}

export function refundRequested(orderId: string): NewEvent {
  return newEvent('pm.RefundRequested', { orderId });
}

export function shipped(orderId: string): NewEvent {
  return newEvent('pm.OrderShipped', { order: { id: orderId } });
}

function newEvent(type: string, payload: Record<string, unknown>): NewEvent {
  const id = newMessageId();
  return {
    id,
    type,
    revision: 1,
    payload,
    metadata: { correlationId: id },
    timestamp: new Date(),
  };
}

export async function processApp(
  client: SqlClient,
  schema: string,
  clock: ManualClock,
  providers: Provider[] = [
    OrderFulfilment,
    ChargeCardHandler,
    RefundCardHandler,
  ],
): Promise<INestApplicationContext> {
  @Module({ providers })
  class ProcessesTestModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { client, schema },
        tracking: FAST_TRACKING,
        // One try: a failing command's outbox row is dead at once.
        scheduling: { pollInterval: 20, retryDelay: 10, maxAttempts: 1, clock },
      }),
      ProcessesTestModule,
    ],
  }).compile();
  return moduleRef.init();
}
