import {
  Injectable,
  Module,
  type INestApplicationContext,
  type Provider,
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
  Consumer,
  EventStore,
  EventType,
  HandleEvent,
  InjectAggregateRepository,
  Query,
  QueryBus,
  QueryHandler,
  QueryType,
  newMessageId,
  type ConsumerContext,
  type ICommandHandler,
  type IQueryHandler,
  type NewEvent,
  type SqlClient,
  type StoredEvent,
} from '../src/index.js';
import { FAST_TRACKING } from './tracking.fixture.js';

// A wallet credited by a consumer of payments: the consumer writes through its
// transaction and sends a command for each event, the edge where re-runs,
// savepoints and the embedded database's single session meet.

@EventType('edges.Paid')
export class Paid {
  constructor(
    readonly wallet: string,
    readonly n: number,
  ) {}
}

@EventType('edges.Credited')
export class Credited {
  constructor(readonly n: number) {}
}

@EventType('edges.Rare')
export class Rare {
  constructor(readonly n: number) {}
}

export function paid(wallet: string, n: number): NewEvent {
  return newEvent('edges.Paid', { wallet, n });
}

export function rare(n: number): NewEvent {
  return newEvent('edges.Rare', { n });
}

export function newEvent(
  type: string,
  payload: Record<string, unknown>,
): NewEvent {
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

@Aggregate({ type: 'edges.Wallet' })
export class Wallet extends AggregateRoot {
  credits: number[] = [];

  credit(n: number): void {
    this.apply(new Credited(n));
  }

  @Apply(Credited) onCredited(event: Credited): void {
    this.credits.push(event.n);
  }
}

@CommandType('edges.Credit')
export class Credit extends Command<number> {
  constructor(
    readonly wallet: string,
    readonly n: number,
  ) {
    super();
  }
}

@QueryType('edges.GetWallet')
export class GetWallet extends Query<number[]> {
  constructor(readonly wallet: string) {
    super();
  }
}

@CommandHandler(Credit)
export class CreditHandler implements ICommandHandler<Credit> {
  constructor(
    @InjectAggregateRepository(Wallet)
    private readonly wallets: AggregateRepository<Wallet>,
  ) {}

  async execute({ wallet, n }: Credit): Promise<number> {
    const found = await this.wallets.loadOrCreate(wallet);
    found.credit(n);
    await this.wallets.save(found);
    return found.version;
  }
}

@QueryHandler(GetWallet)
export class GetWalletHandler implements IQueryHandler<GetWallet> {
  constructor(
    @InjectAggregateRepository(Wallet)
    private readonly wallets: AggregateRepository<Wallet>,
  ) {}

  async execute({ wallet }: GetWallet): Promise<number[]> {
    return (await this.wallets.loadOrCreate(wallet)).credits;
  }
}

/** What the tests set and read: the projection's table, the failure to inject, what handlers saw. */
export const edges = {
  table: '',
  /** The event number whose first attempt throws. */
  failOnceAt: 0,
  failed: false,
  /** The event number whose every attempt throws. */
  poisonAt: 0,
  /** The event number whose handler swallows a failed statement. */
  swallowAt: 0,
  /** Handler invocations per event number. */
  runs: new Map<number, number>(),
  /** What the reading consumer found after its write, per event number. */
  reads: new Map<
    number,
    { loaded: number[]; streamLength: number; queried: number[] }
  >(),
  reset(table: string): void {
    this.table = table;
    this.failOnceAt = 0;
    this.failed = false;
    this.poisonAt = 0;
    this.swallowAt = 0;
    this.runs = new Map();
    this.reads = new Map();
  },
};

/** Writes a row in its transaction, then credits the wallet by command. */
async function credit(
  commands: CommandBus,
  event: Paid,
  context: ConsumerContext,
): Promise<void> {
  edges.runs.set(event.n, (edges.runs.get(event.n) ?? 0) + 1);
  const sql = await context.sql();
  await sql.query(`INSERT INTO ${edges.table} (n) VALUES ($1::int)`, [event.n]);
  await commands.execute(new Credit(event.wallet, event.n));
  if (event.n === edges.failOnceAt && !edges.failed) {
    edges.failed = true;
    throw new Error(`transient failure on payment ${event.n}`);
  }
  if (event.n === edges.poisonAt) {
    throw new Error(`poison payment ${event.n}`);
  }
  if (event.n === edges.swallowAt) {
    // A failed statement whose error the handler keeps to itself: the
    // transaction is aborted all the same.
    await sql.query('SELECT 1 / 0').catch(() => undefined);
  }
}

/** Batches without savepoints until a handler fails (the default). */
@Consumer('crediting', { batchSize: 100, maxAttempts: 3, retryDelayMs: 5 })
@Injectable()
export class CreditingConsumer {
  constructor(private readonly commands: CommandBus) {}

  @HandleEvent(Paid)
  onPaid(event: Paid, _: StoredEvent, context: ConsumerContext) {
    return credit(this.commands, event, context);
  }
}

/** One savepoint per event, always. */
@Consumer('crediting-isolated', {
  batchSize: 100,
  maxAttempts: 3,
  retryDelayMs: 5,
  savepoints: 'every-event',
})
@Injectable()
export class IsolatedCreditingConsumer {
  constructor(private readonly commands: CommandBus) {}

  @HandleEvent(Paid)
  onPaid(event: Paid, _: StoredEvent, context: ConsumerContext) {
    return credit(this.commands, event, context);
  }
}

/** Like `CreditingConsumer`, dead-lettering what fails at its one try. */
@Consumer('crediting-lenient', {
  batchSize: 100,
  maxAttempts: 1,
  retryDelayMs: 5,
  onError: 'skip',
})
@Injectable()
export class LenientCreditingConsumer {
  constructor(private readonly commands: CommandBus) {}

  @HandleEvent(Paid)
  onPaid(event: Paid, _: StoredEvent, context: ConsumerContext) {
    return credit(this.commands, event, context);
  }
}

/** Like `CreditingConsumer`, stopping its segment on what still fails. */
@Consumer('crediting-strict', {
  batchSize: 100,
  maxAttempts: 2,
  retryDelayMs: 5,
})
@Injectable()
export class StrictCreditingConsumer {
  constructor(private readonly commands: CommandBus) {}

  @HandleEvent(Paid)
  onPaid(event: Paid, _: StoredEvent, context: ConsumerContext) {
    return credit(this.commands, event, context);
  }
}

/** Writes in its transaction, then reads the store three ways: the embedded deadlock. */
@Consumer('reading', { batchSize: 100 })
@Injectable()
export class ReadingConsumer {
  constructor(
    @InjectAggregateRepository(Wallet)
    private readonly wallets: AggregateRepository<Wallet>,
    private readonly store: EventStore,
    private readonly queries: QueryBus,
  ) {}

  @HandleEvent(Paid)
  async onPaid(event: Paid, _: StoredEvent, context: ConsumerContext) {
    const sql = await context.sql();
    await sql.query(`INSERT INTO ${edges.table} (n) VALUES ($1::int)`, [
      event.n,
    ]);
    const loaded = (await this.wallets.loadOrCreate(event.wallet)).credits;
    let streamLength = 0;
    for await (const _stored of this.store.readStream(
      `edges.Wallet-${event.wallet}`,
    ))
      streamLength++;
    const queried = await this.queries.execute(new GetWallet(event.wallet));
    edges.reads.set(event.n, { loaded, streamLength, queried });
  }
}

/** A consumer of a type almost nobody writes. */
@Consumer('rare', { batchSize: 10 })
export class RareConsumer {
  static seen: number[] = [];

  @HandleEvent(Rare)
  onRare(event: Rare): void {
    RareConsumer.seen.push(event.n);
  }
}

/** Records every payment it sees, by event id. */
@Consumer('payments', { batchSize: 100 })
export class PaymentsRecorder {
  static seen: string[] = [];

  @HandleEvent(Paid)
  onPaid(_: Paid, envelope: StoredEvent): void {
    PaymentsRecorder.seen.push(envelope.id);
  }
}

export async function edgesApp(
  client: SqlClient,
  schema: string,
  providers: Provider[],
): Promise<INestApplicationContext> {
  @Module({
    imports: [ChronicleModule.forFeature([Wallet])],
    providers: [CreditHandler, GetWalletHandler, ...providers],
  })
  class EdgesModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { client, schema },
        tracking: FAST_TRACKING,
      }),
      EdgesModule,
    ],
  }).compile();
  return moduleRef.init();
}
