import {
  Injectable,
  Module,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  ChronicleModule,
  Command,
  CommandBus,
  CommandHandler,
  CommandType,
  EventStore,
  EventType,
  InjectAggregateRepository,
  MessageContext,
  assignedIdOf,
  deriveMessageId,
  type Envelope,
  type ICommandHandler,
  type StoredEvent,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';

// A checkout that charges an account through a nested command: the shape in
// which a re-run of the outer handler used to charge twice.

@EventType('ids.Charged')
class Charged {
  constructor(
    readonly accountId: string,
    readonly amount: number,
  ) {}
}

@EventType('ids.CheckoutCompleted')
class CheckoutCompleted {
  constructor(readonly checkoutId: string) {}
}

@EventType('ids.CheckoutTouched')
class CheckoutTouched {
  constructor(readonly checkoutId: string) {}
}

@Aggregate({ type: 'ids.Account' })
class Account extends AggregateRoot {
  charged = 0;
  charge(amount: number): void {
    this.apply(new Charged(this.id, amount));
  }
  @Apply(Charged) private onCharged(e: Charged): void {
    this.charged += e.amount;
  }
}

@Aggregate({ type: 'ids.Checkout' })
class Checkout extends AggregateRoot {
  completed = false;
  complete(): void {
    if (this.completed) throw new Error(`Checkout ${this.id} is completed`);
    this.apply(new CheckoutCompleted(this.id));
  }
  @Apply(CheckoutCompleted) private onCompleted(): void {
    this.completed = true;
  }
  @Apply(CheckoutTouched) private onTouched(): void {}
}

@CommandType('ids.Charge')
class Charge extends Command<number> {
  constructor(
    readonly accountId: string,
    readonly amount: number,
  ) {
    super();
  }
}

@CommandType('ids.CompleteCheckout')
class CompleteCheckout extends Command<void> {
  constructor(
    readonly checkoutId: string,
    readonly accountId: string,
  ) {
    super();
  }
}

/** What the test does to the world while the outer handler is between load and save. */
export const race = {
  runs: 0,
  interfere: async (_checkoutId: string): Promise<void> => undefined,
};

@CommandType('ids.Refuse')
class Refuse extends Command<void> {}

/** Fails at once, reading nothing of its command's envelope. */
@CommandHandler(Refuse)
class RefuseHandler implements ICommandHandler<Refuse> {
  execute(): Promise<void> {
    return Promise.reject(new Error('refused'));
  }
}

/** The envelopes the handlers saw themselves run in (`MessageContext.current()`). */
const seen: Envelope[] = [];

@CommandHandler(Charge)
class ChargeHandler implements ICommandHandler<Charge> {
  constructor(
    @InjectAggregateRepository(Account)
    private readonly accounts: AggregateRepository<Account>,
  ) {}
  async execute({ accountId, amount }: Charge): Promise<number> {
    const current = MessageContext.current();
    if (current) seen.push(current);
    const account = await this.accounts.loadOrCreate(accountId);
    account.charge(amount);
    await this.accounts.save(account);
    return account.charged;
  }
}

@Injectable()
@CommandHandler(CompleteCheckout)
class CompleteCheckoutHandler implements ICommandHandler<CompleteCheckout> {
  constructor(
    @InjectAggregateRepository(Checkout)
    private readonly checkouts: AggregateRepository<Checkout>,
    private readonly commands: CommandBus,
  ) {}
  async execute({ checkoutId, accountId }: CompleteCheckout): Promise<void> {
    race.runs++;
    const checkout = await this.checkouts.loadOrCreate(checkoutId);
    // Commits on its own, before this handler's own append.
    await this.commands.execute(new Charge(accountId, 30));
    await race.interfere(checkoutId);
    checkout.complete();
    await this.checkouts.save(checkout);
  }
}

async function eventsIn(
  store: EventStore,
  streamId: string,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of store.readStream(streamId)) events.push(event);
  return events;
}

async function typesIn(store: EventStore, streamId: string): Promise<string[]> {
  const types: string[] = [];
  for await (const event of store.readStream(streamId)) types.push(event.type);
  return types;
}

/** Ids derived from the message being handled: what a re-run sends again is absorbed. */
export function derivedIdsSuite(database: () => TestDatabase): void {
  let app: INestApplicationContext;
  let commands: CommandBus;
  let store: EventStore;

  beforeEach(async () => {
    race.runs = 0;
    race.interfere = async () => undefined;
    @Module({
      imports: [ChronicleModule.forFeature([Account, Checkout])],
      providers: [ChargeHandler, CompleteCheckoutHandler],
    })
    class PaymentsModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: { client: database().client(), schema: freshSchema('ids') },
          commands: { retries: 3, retryDelayMs: 1 },
        }),
        PaymentsModule,
      ],
    }).compile();
    app = await moduleRef.init();
    commands = app.get(CommandBus);
    store = app.get(EventStore);
  });

  afterEach(() => app.close());

  it('charges once when the outer handler loses a race and runs again', async () => {
    race.interfere = async (checkoutId) => {
      // Another writer gets to the checkout first, once.
      if (race.runs === 1)
        await store.appendToStreams([
          {
            streamId: `ids.Checkout-${checkoutId}`,
            expectedVersion: 'any',
            events: [
              {
                id: crypto.randomUUID(),
                type: 'ids.CheckoutTouched',
                revision: 1,
                payload: { checkoutId },
                metadata: { correlationId: checkoutId },
                timestamp: new Date(),
              },
            ],
          },
        ]);
    };

    await commands.execute(new CompleteCheckout('c1', 'a1'));

    expect(race.runs).toBe(2);
    expect(await typesIn(store, 'ids.Account-a1')).toEqual(['ids.Charged']);
    expect(await typesIn(store, 'ids.Checkout-c1')).toEqual([
      'ids.CheckoutTouched',
      'ids.CheckoutCompleted',
    ]);
  });

  it('runs a command instance executed twice once, and returns the first result twice', async () => {
    const charge = new Charge('a2', 40);
    const first = await commands.execute(charge);
    const second = await commands.execute(charge);

    expect([first, second]).toEqual([40, 40]);
    expect(await typesIn(store, 'ids.Account-a2')).toEqual(['ids.Charged']);
  });

  it('still runs two equal commands built separately', async () => {
    await commands.execute(new Charge('a3', 5));
    await commands.execute(new Charge('a3', 5));

    expect(await typesIn(store, 'ids.Account-a3')).toEqual([
      'ids.Charged',
      'ids.Charged',
    ]);
  });

  describe('with deduplication off', () => {
    let lean: INestApplicationContext;

    beforeEach(async () => {
      seen.length = 0;
      @Module({
        imports: [ChronicleModule.forFeature([Account, Checkout])],
        providers: [ChargeHandler, CompleteCheckoutHandler, RefuseHandler],
      })
      class LeanPaymentsModule {}
      const moduleRef = await Test.createTestingModule({
        imports: [
          ChronicleModule.forRoot({
            database: {
              client: database().client(),
              schema: freshSchema('ids_lean'),
            },
            commands: { deduplicate: false },
          }),
          LeanPaymentsModule,
        ],
      }).compile();
      lean = await moduleRef.init();
    });

    afterEach(() => lean.close());

    it("gives a command's events and what it sends the id its instance keeps", async () => {
      const leanStore = lean.get(EventStore);
      const complete = new CompleteCheckout('c4', 'a4');
      await lean.get(CommandBus).execute(complete);

      const id = assignedIdOf(complete);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
      const [completed] = await eventsIn(leanStore, 'ids.Checkout-c4');
      expect(completed.metadata).toEqual({
        correlationId: id,
        causationId: id,
      });
      const chargeId = deriveMessageId(
        id as string,
        'command:CompleteCheckoutHandler',
        'ids.Charge',
        0,
      );
      const [charged] = await eventsIn(leanStore, 'ids.Account-a4');
      expect(charged.metadata).toEqual({
        correlationId: id,
        causationId: chargeId,
      });
      expect(seen.map((e) => [e.id, e.metadata])).toEqual([
        [chargeId, { correlationId: id, causationId: id }],
      ]);
    });

    it('gives a command that fails the id its failure is logged under', async () => {
      const refuse = new Refuse();
      await expect(lean.get(CommandBus).execute(refuse)).rejects.toThrow(
        'refused',
      );
      expect(assignedIdOf(refuse)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    });

    it('shows a handler the id its instance keeps, the same on every send of it', async () => {
      const charge = new Charge('a5', 7);
      const before = Date.now();
      await lean.get(CommandBus).execute(charge);
      await lean.get(CommandBus).execute(charge);

      const id = assignedIdOf(charge);
      expect(seen.map((e) => e.id)).toEqual([id, id]);
      expect(seen[0].metadata).toEqual({ correlationId: id });
      expect(seen[0].timestamp.getTime()).toBeGreaterThanOrEqual(before);
      // Not recorded: each send runs.
      expect(await typesIn(lean.get(EventStore), 'ids.Account-a5')).toEqual([
        'ids.Charged',
        'ids.Charged',
      ]);
    });
  });
}
