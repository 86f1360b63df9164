import { Injectable, Module } from '@nestjs/common';
import {
  Aggregate,
  AggregateRoot,
  Apply,
  ChronicleModule,
  Command,
  CommandHandler,
  CommandType,
  EventType,
  Handles,
  InjectAggregateRepository,
  OnCommandFailed,
  ProcessManager,
  ProcessManagerBase,
  StartedBy,
  type AggregateRepository,
  type HandlingFailed,
  type ICommandHandler,
} from '@chronicle/core';
import {
  FixtureExpectationError,
  onStream,
  TestFixture,
  timeElapses,
  type FixtureMode,
} from './index.js';

// A small order fulfilment process manager: it asks for payment, reminds
// after 10 minutes, cancels after 15, and ships once paid (shipping appends
// an event it reacts to in turn, ending the instance).

@EventType('pmfx.OrderPlaced')
class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly total: number,
  ) {}
}

@EventType('pmfx.PaymentReceived')
class PaymentReceived {
  constructor(readonly orderId: string) {}
}

@EventType('pmfx.ReminderWaived')
class ReminderWaived {
  constructor(readonly orderId: string) {}
}

@EventType('pmfx.OrderShipped')
class OrderShipped {
  constructor(readonly orderId: string) {}
}

/** Deadlines, delivered back to the instance that set them. */
@EventType('pmfx.PaymentReminderDue')
class PaymentReminderDue {
  constructor(readonly orderId: string) {}
}

@EventType('pmfx.PaymentOverdue')
class PaymentOverdue {
  constructor(readonly orderId: string) {}
}

@CommandType('pmfx.RequestPayment')
class RequestPayment extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly amount: number,
  ) {
    super();
  }
}

@CommandType('pmfx.ShipOrder')
class ShipOrder extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

/** Handled by another app: it waits in the outbox, and is still listed as sent. */
@CommandType('pmfx.CancelOrder')
class CancelOrder extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}

interface Fulfilment {
  total: number;
  paid: boolean;
  reminders: number;
  readonly log: string[];
}

@Injectable()
@ProcessManager('fulfilment')
class OrderFulfilment extends ProcessManagerBase<Fulfilment> {
  initialState(): Fulfilment {
    return { total: 0, paid: false, reminders: 0, log: [] };
  }

  @StartedBy(OrderPlaced, { key: 'orderId' })
  onPlaced(event: OrderPlaced): void {
    this.state.total = event.total;
    this.state.log.push('placed');
    this.send(new RequestPayment(event.orderId, event.total));
    this.deadline('reminder', '10m', new PaymentReminderDue(event.orderId));
    this.deadline('payment', '15m', new PaymentOverdue(event.orderId));
  }

  @Handles(ReminderWaived, { key: 'orderId' })
  onWaived(): void {
    this.cancelDeadline('reminder');
  }

  @Handles(PaymentReminderDue, { key: 'orderId' })
  onReminderDue(): void {
    this.state.reminders++;
    this.state.log.push('reminded');
  }

  @Handles(PaymentReceived, { key: 'orderId' })
  onPaid(): void {
    this.cancelDeadline('reminder');
    this.cancelDeadline('payment');
    this.state.paid = true;
    this.state.log.push('paid');
    this.send(new ShipOrder(this.key));
  }

  @Handles(PaymentOverdue, { key: 'orderId' })
  onOverdue(): void {
    this.state.log.push('overdue');
    this.send(new CancelOrder(this.key, 'not paid in time'));
    this.end();
  }

  @Handles(OrderShipped, { key: 'orderId' })
  onShipped(): void {
    this.state.log.push('shipped');
    this.end();
  }

  @OnCommandFailed(ShipOrder)
  onShippingFailed(failed: HandlingFailed): void {
    this.state.log.push(`shipping failed: ${failed.error.message}`);
    this.send(new CancelOrder(this.key, 'cannot ship'));
    this.end();
  }
}

@Aggregate({ type: 'pmfx.Shipment' })
class Shipment extends AggregateRoot {
  shipped = false;

  ship(): void {
    this.apply(new OrderShipped(this.id));
  }

  @Apply(OrderShipped) onShipped(): void {
    this.shipped = true;
  }
}

@Injectable()
@CommandHandler(RequestPayment)
class RequestPaymentHandler implements ICommandHandler<RequestPayment> {
  async execute(): Promise<void> {}
}

@CommandHandler(ShipOrder)
class ShipOrderHandler implements ICommandHandler<ShipOrder> {
  constructor(
    @InjectAggregateRepository(Shipment)
    private readonly shipments: AggregateRepository<Shipment>,
  ) {}

  async execute({ orderId }: ShipOrder): Promise<void> {
    if (orderId === 'o-broken') throw new Error('no address for o-broken');
    const shipment = this.shipments.create(orderId);
    shipment.ship();
    await this.shipments.save(shipment);
  }
}

@Module({
  imports: [ChronicleModule.forFeature([Shipment])],
  providers: [OrderFulfilment, RequestPaymentHandler, ShipOrderHandler],
})
class FulfilmentModule {}

/** Not a process manager. */
class NotAProcess extends ProcessManagerBase<{ a: number }> {
  initialState() {
    return { a: 1 };
  }
}

const placed = (id: string, total = 30) =>
  onStream(`orders-${id}`, new OrderPlaced(id, total));
const paid = (id: string) =>
  onStream(`payments-${id}`, new PaymentReceived(id));
const waived = (id: string) =>
  onStream(`reminders-${id}`, new ReminderWaived(id));

async function failureOf(run: PromiseLike<void>): Promise<string> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(FixtureExpectationError);
    return (error as Error).message;
  }
  throw new Error('expected the scenario to fail');
}

describe.each<FixtureMode>(['embedded', 'integration'])(
  'TestFixture with a process manager (%s)',
  (mode) => {
    // A fixture per test: each has its own clock, so one test's open
    // deadlines never fire in another's timeElapses.
    let fixture: TestFixture;
    beforeEach(async () => {
      fixture = await TestFixture.create({
        imports: [FulfilmentModule],
        mode,
        // A command that fails is dead at its first try: @OnCommandFailed runs at once.
        chronicle: { scheduling: { maxAttempts: 1 } },
      });
    }, 60_000);
    afterEach(() => fixture.close());

    it('starts an instance on an event: its state, the commands it sent, the deadlines it set', async () => {
      await fixture
        .when(placed('o-1'))
        .expectCommands(new RequestPayment('o-1', 30))
        .expectDeadlinesSet(OrderFulfilment, 'o-1', {
          reminder: '10m',
          payment: '15m',
        })
        .expectDeadlinesCancelled(OrderFulfilment, 'o-1')
        .expectProcess(OrderFulfilment, 'o-1', {
          state: { total: 30, paid: false, log: ['placed'] },
          status: 'live',
          deadlines: { reminder: '10m', payment: '15m' },
        })
        // Deadlines are the process manager's, not schedules of the app.
        .expectNoSchedules();
    });

    it('continues an instance the given events started, until the events its own commands caused end it', async () => {
      await fixture
        .given(placed('o-2', 12))
        .when(paid('o-2'))
        .expectEvents(new PaymentReceived('o-2'), new OrderShipped('o-2'))
        .expectCommands(new ShipOrder('o-2'))
        .expectDeadlinesSet(OrderFulfilment, 'o-2', {})
        .expectDeadlinesCancelled(OrderFulfilment, 'o-2', 'payment', 'reminder')
        .expectProcess(OrderFulfilment, 'o-2', {
          state: { total: 12, paid: true, log: ['placed', 'paid', 'shipped'] },
          status: 'ended',
          deadlines: {},
        });
    });

    it('delivers a deadline back to its instance when its time has come, and not before', async () => {
      await fixture
        .given(placed('o-3'))
        .when(timeElapses('9m'))
        .expectNoCommands()
        .expectProcess(OrderFulfilment, 'o-3', {
          state: { reminders: 0 },
          deadlines: { reminder: '1m', payment: '6m' },
        });
      await fixture
        .when(timeElapses('1m'))
        .expectNoCommands()
        .expectDeadlinesCancelled(OrderFulfilment, 'o-3')
        .expectProcess(OrderFulfilment, 'o-3', {
          state: { reminders: 1, log: ['placed', 'reminded'] },
          status: 'live',
          deadlines: { payment: '5m' },
        });
      await fixture
        .when(timeElapses('5m'))
        .expectCommands(new CancelOrder('o-3', 'not paid in time'))
        .expectProcess(OrderFulfilment, 'o-3', {
          state: (s) => s.log.at(-1) === 'overdue',
          status: 'ended',
          deadlines: {},
        });
    });

    it('never delivers a cancelled deadline', async () => {
      await fixture
        .given(placed('o-4'))
        .when(waived('o-4'))
        .expectDeadlinesCancelled(OrderFulfilment, 'o-4', 'reminder')
        .expectProcess(OrderFulfilment, 'o-4', {
          deadlines: { payment: '15m' },
        });
      await fixture
        .when(timeElapses('14m'))
        .expectNoCommands()
        .expectProcess(OrderFulfilment, 'o-4', {
          state: { reminders: 0, log: ['placed'] },
          status: 'live',
        });
    });

    it('runs @OnCommandFailed when a command the instance sent fails for good, before the expectations', async () => {
      await fixture
        .given(placed('o-broken'))
        .when(paid('o-broken'))
        .expectCommands(
          new ShipOrder('o-broken'),
          new CancelOrder('o-broken', 'cannot ship'),
        )
        .expectProcess(OrderFulfilment, 'o-broken', {
          state: {
            log: [
              'placed',
              'paid',
              expect.stringMatching(/^shipping failed: /),
            ],
          },
          status: 'ended',
        });
    });

    it('starts no instance for an event that only continues one', async () => {
      await fixture
        .when(paid('o-5'))
        .expectNoCommands()
        .expectNoProcess(OrderFulfilment, 'o-5');
    });

    it('fails on a state, a status or open deadlines that differ, showing expected and actual', async () => {
      const message = await failureOf(
        fixture.when(placed('o-6')).expectProcess(OrderFulfilment, 'o-6', {
          state: {
            paid: true,
            log: ['placed', expect.any(String)],
            // @ts-expect-error: the state is typed by the process manager
            payed: true,
          },
          status: 'ended',
          deadlines: { payment: '20m' },
        }),
      );
      expect(message).toContain('Unexpected state of process fulfilment "o-6"');
      expect(message).toContain('  paid: expected true, actual false');
      expect(message).toContain(
        "  log: expected [ 'placed', Any<String> ], actual [ 'placed' ]",
      );
      expect(message).toContain('  payed: expected true, actual undefined');
      expect(message).toContain(
        'Expected process fulfilment "o-6" to be ended, but it is live',
      );
      expect(message).toMatch(
        /Unexpected open deadlines of process fulfilment "o-6":\n {2}expected payment in 20m\n {2}actual {3}reminder in 10m \(due [^)]+\), payment in 15m \(due /,
      );
    });

    it('fails when a predicate on the state does not hold, showing the state', async () => {
      const message = await failureOf(
        fixture.when(placed('o-7', 5)).expectProcess(OrderFulfilment, 'o-7', {
          state: (s) => s.total > 10,
        }),
      );
      expect(message).toContain(
        'Unexpected state of process fulfilment "o-7":\n  the predicate did not hold\n  state: { log: [ \'placed\' ], paid: false, total: 5, reminders: 0 }',
      );
    });

    it('fails when the instance is missing, or there when none was expected, naming the instances', async () => {
      const missing = await failureOf(
        fixture
          .given(placed('o-8'))
          .when(paid('o-88'))
          .expectProcess(OrderFulfilment, 'o-88', { status: 'live' }),
      );
      expect(missing).toContain(
        'Expected process fulfilment "o-88" to exist, but no instance has this key (its instances: "o-8")',
      );
      const present = await failureOf(
        fixture.when(paid('o-8')).expectNoProcess(OrderFulfilment, 'o-8'),
      );
      expect(present).toContain(
        'Expected no instance of process fulfilment for "o-8", but there is one (ended):',
      );
    });

    it('fails on deadlines set or cancelled other than expected, saying what the action did', async () => {
      const set = await failureOf(
        fixture
          .when(placed('o-9'))
          .expectDeadlinesSet(OrderFulfilment, 'o-9', { payment: '15m' }),
      );
      expect(set).toMatch(
        /Unexpected deadlines set on process fulfilment "o-9":\n {2}expected payment in 15m\n {2}actual {3}reminder in 10m \(due [^)]+\), payment in 15m/,
      );
      const cancelled = await failureOf(
        fixture
          .when(timeElapses('10m'))
          .expectDeadlinesCancelled(OrderFulfilment, 'o-9', 'reminder'),
      );
      expect(cancelled).toContain(
        'Unexpected deadlines cancelled on process fulfilment "o-9":\n  expected reminder\n  actual   (none)',
      );
      expect(cancelled).toContain(
        '(during the action: set (none); cancelled (none); fired reminder)',
      );
    });

    it('fails on commands other than those the process manager sent', async () => {
      const message = await failureOf(
        fixture
          .when(placed('o-10', 8))
          .expectCommands(new RequestPayment('o-10', 9)),
      );
      expect(message).toContain('Unexpected commands: commands #1 differs');
      expect(message).toContain(
        "actual   pmfx.RequestPayment { orderId: 'o-10', amount: 8 }",
      );
    });

    it('says so when an event given to when() alone never reached the process manager', async () => {
      const message = await failureOf(
        fixture
          .when(new OrderPlaced('o-12', 1))
          .expectProcess(OrderFulfilment, 'o-12', { status: 'live' }),
      );
      expect(message).toContain(
        'Expected process fulfilment "o-12" to exist, but no instance has this key (it has no instances at all)',
      );
      expect(message).toContain(
        'process managers read the event log: append it with onStream(id, event) or onAggregate(Aggregate, id, event)',
      );
    });

    it('refuses a class that is not a process manager', () => {
      expect(() =>
        fixture.when(placed('o-11')).expectNoProcess(NotAProcess, 'o-11'),
      ).toThrow(
        'NotAProcess is not a process manager: pass a class decorated with @ProcessManager(name).',
      );
    });
  },
);
