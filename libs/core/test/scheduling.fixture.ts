import { Injectable } from '@nestjs/common';
import {
  Command,
  CommandBus,
  CommandHandler,
  CommandType,
  HandleSchedule,
  MessageContext,
  Periodic,
  ScheduleType,
  Scheduler,
  type ICommandHandler,
  type MessageMetadata,
  UnitOfWork,
  type ScheduleContext,
} from '../src/index.js';

// Schedules, and the handlers that record their deliveries, for the scheduling tests.

@ScheduleType('test.PaymentTimeout')
export class PaymentTimeout {
  constructor(readonly orderId: string) {}
}

/** A barrier: once a probe due now is delivered, the poller has looked at the present. */
@ScheduleType('test.Probe')
export class Probe {
  constructor(readonly n: number) {}
}

/** Takes `ms` of real time to handle: longer than its claim, in the lease tests. */
@ScheduleType('test.Slow')
export class Slow {
  constructor(readonly ms: number) {}
}

/** Fails its first `failures` tries. */
@ScheduleType('test.Flaky')
export class Flaky {
  constructor(readonly failures: number) {}
}

/** Its handler sends an ExpireOrder through the command bus, and writes nothing itself. */
@ScheduleType('test.ExpireVia')
export class ExpireVia {
  constructor(readonly orderId: string) {}
}

@CommandType('test.ExpireOrder')
export class ExpireOrder extends Command<string> {
  constructor(readonly orderId: string) {
    super();
  }
}

/** Schedules a payment timeout for the order, then fails when asked to. */
@CommandType('test.PlaceWithTimeout')
export class PlaceWithTimeout extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly fail: boolean,
  ) {
    super();
  }
}

export interface Delivery {
  readonly type: string;
  readonly payload?: object;
  readonly context?: ScheduleContext;
  readonly metadata?: MessageMetadata;
}

/** What this app instance delivered, in order; `failCleanup` makes the periodic run throw. */
@Injectable()
export class ScheduleRecorder {
  readonly deliveries: Delivery[] = [];
  failCleanup = false;
  /** Runs in each ExpireOrder's handler, before it returns (a test's stand-in for what may happen meanwhile). */
  onExpire: ((command: ExpireOrder) => Promise<void>) | undefined;

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly commands: CommandBus,
  ) {}

  of(type: string): Delivery[] {
    return this.deliveries.filter((d) => d.type === type);
  }

  @HandleSchedule(PaymentTimeout)
  onTimeout(timeout: PaymentTimeout, context: ScheduleContext): void {
    this.deliveries.push({
      type: 'PaymentTimeout',
      payload: timeout,
      context,
      metadata: MessageContext.current()?.metadata,
    });
  }

  @HandleSchedule(ExpireVia)
  async onExpireVia(via: ExpireVia): Promise<void> {
    this.deliveries.push({ type: 'ExpireVia', payload: via });
    await this.commands.execute(new ExpireOrder(via.orderId));
  }

  @HandleSchedule(Probe)
  onProbe(probe: Probe): void {
    this.deliveries.push({ type: 'Probe', payload: probe });
  }

  /** Records each start at once, and its completion only once its transaction committed. */
  @HandleSchedule(Slow)
  async onSlow(slow: Slow, context: ScheduleContext): Promise<void> {
    this.deliveries.push({ type: 'Slow started', payload: slow, context });
    await new Promise((resolve) => setTimeout(resolve, slow.ms));
    this.unitOfWork.afterCommit(() =>
      this.deliveries.push({ type: 'Slow committed', payload: slow, context }),
    );
  }

  @HandleSchedule(Flaky)
  onFlaky(flaky: Flaky, context: ScheduleContext): void {
    this.deliveries.push({ type: 'Flaky', payload: flaky, context });
    if (context.attempt <= flaky.failures) {
      throw new Error(`flaky failure ${context.attempt}`);
    }
  }

  @Periodic({ every: '5m', id: 'test.cleanup' })
  cleanup(context: ScheduleContext): void {
    this.deliveries.push({ type: 'cleanup', context });
    if (this.failCleanup) throw new Error('cleanup failed');
  }
}

@Injectable()
@CommandHandler(ExpireOrder)
export class ExpireOrderHandler implements ICommandHandler<ExpireOrder> {
  constructor(private readonly recorder: ScheduleRecorder) {}

  async execute(command: ExpireOrder): Promise<string> {
    const envelope = MessageContext.current();
    this.recorder.deliveries.push({
      type: 'ExpireOrder',
      payload: command,
      metadata: envelope?.metadata,
    });
    await this.recorder.onExpire?.(command);
    return `expired ${command.orderId} as ${envelope?.id}`;
  }
}

@Injectable()
@CommandHandler(PlaceWithTimeout)
export class PlaceWithTimeoutHandler implements ICommandHandler<PlaceWithTimeout> {
  constructor(private readonly scheduler: Scheduler) {}

  async execute({ orderId, fail }: PlaceWithTimeout): Promise<void> {
    await this.scheduler.schedule(
      new PaymentTimeout(orderId),
      { delay: '15m' },
      { id: `timeout-${orderId}` },
    );
    if (fail) throw new Error('payment provider refused');
  }
}

export const schedulingHandlers = [
  ScheduleRecorder,
  ExpireOrderHandler,
  PlaceWithTimeoutHandler,
];
