import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  CommandBus,
  ConcurrencyError,
  EventStore,
  MessageGateway,
  newMessageId,
  PostgresEventStore,
  type StoredEvent,
} from '../src/index.js';
import {
  Account,
  AccountAlreadyOpen,
  accountHandlers,
  accountHooks,
  Deposit,
  DepositTwiceNested,
  InsufficientFunds,
  OpenAccount,
  OpenByCreate,
  Transfer,
  WithdrawEach,
} from './accounts.fixture.js';
import { freshSchema, type TestDatabase } from './databases.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The balance a stream's events add up to. */
function balanceOf(events: readonly StoredEvent[]): number {
  let balance = 0;
  for (const { type, payload } of events) {
    const { balance: opened = 0, amount = 0 } = payload as {
      balance?: number;
      amount?: number;
    };
    if (type === 'test.AccountOpened') balance = opened;
    if (type === 'test.MoneyWithdrawn') balance -= amount;
    if (type === 'test.MoneyDeposited') balance += amount;
  }
  return balance;
}

/**
 * One command's unit of work: an aggregate loaded twice is one instance, and
 * commands of one process on one aggregate queue instead of conflicting.
 */
export function unitOfWorkSuite(database: () => TestDatabase): void {
  let app: INestApplicationContext;
  let commands: CommandBus;
  let store: EventStore;

  beforeEach(async () => {
    accountHooks.beforeDeposit = async () => undefined;
    accountHooks.depositRuns = 0;

    @Module({
      imports: [ChronicleModule.forFeature([Account])],
      providers: accountHandlers,
    })
    class AccountsModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: { client: database().client(), schema: freshSchema('uow') },
          // Longer than a test may take: a deadlock fails the test instead of waiting it out.
          commands: {
            retries: 3,
            retryDelayMs: 1,
            aggregateLockWaitMs: 120_000,
          },
        }),
        AccountsModule,
      ],
    }).compile();
    app = await moduleRef.init();
    commands = app.get(CommandBus);
    store = app.get(EventStore);
  });

  afterEach(async () => {
    await app.close();
  });

  const stream = (id: string) =>
    collect(store.readStream(`test.Account-${id}`));

  describe('identity map', () => {
    it.each(['load', 'find', 'loadOrCreate'] as const)(
      'refuses a second withdrawal that the first made impossible (%s twice in one command)',
      async (how) => {
        await commands.execute(new OpenAccount(`a-${how}`, [100]));
        await expect(
          commands.execute(new WithdrawEach(`a-${how}`, [80, 80], how)),
        ).rejects.toBeInstanceOf(InsufficientFunds);
        const events = await stream(`a-${how}`);
        expect(events.map((e) => e.type)).toEqual(['test.AccountOpened']);
        expect(balanceOf(events)).toBe(100);
      },
    );

    it('gives every load of one stream in a command the same instance, with what it already applied', async () => {
      await commands.execute(new OpenAccount('b-1', [100]));
      expect(await commands.execute(new WithdrawEach('b-1', [30, 50]))).toEqual(
        { sameInstance: true },
      );
      const events = await stream('b-1');
      expect(events.map((e) => [e.type, e.streamVersion])).toEqual([
        ['test.AccountOpened', 1],
        ['test.MoneyWithdrawn', 2],
        ['test.MoneyWithdrawn', 3],
      ]);
      expect(balanceOf(events)).toBe(20);
    });

    it('gives a second loadOrCreate of a new stream the instance the first created', async () => {
      await expect(
        commands.execute(new OpenAccount('c-1', [100, 50])),
      ).rejects.toBeInstanceOf(AccountAlreadyOpen);
      expect(await stream('c-1')).toEqual([]);
    });

    it('refuses a second instance of a stream whose events do not follow the first', async () => {
      await expect(
        commands.execute(new OpenByCreate('e-1', [100, 50])),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await stream('e-1')).toEqual([]);
    });

    it('starts afresh in the next command', async () => {
      await commands.execute(new OpenAccount('d-1', [100]));
      await commands.execute(new WithdrawEach('d-1', [80]));
      await expect(
        commands.execute(new WithdrawEach('d-1', [80])),
      ).rejects.toBeInstanceOf(InsufficientFunds);
      expect(balanceOf(await stream('d-1'))).toBe(20);
    });
  });

  describe('in-process queueing per aggregate', () => {
    it('completes a command that waits for a nested command on the aggregate it loaded', async () => {
      await commands.execute(new OpenAccount('n-1', [0]));
      await commands.execute(new DepositTwiceNested('n-1', 5));
      expect(balanceOf(await stream('n-1'))).toBe(10);
    });

    it('completes transfers that take two accounts in opposite orders', async () => {
      await commands.execute(new OpenAccount('x-a', [100]));
      await commands.execute(new OpenAccount('x-b', [100]));
      for (let round = 0; round < 3; round++) {
        await Promise.all([
          commands.execute(new Transfer('x-a', 'x-b', 10)),
          commands.execute(new Transfer('x-b', 'x-a', 5)),
        ]);
      }
      expect(balanceOf(await stream('x-a'))).toBe(85);
      expect(balanceOf(await stream('x-b'))).toBe(115);
    });

    it('runs 50 concurrent commands on one aggregate, round after round, without a conflict', async () => {
      await commands.execute(new OpenAccount('m-1', [0]));
      const rounds = 4;
      const writers = 50;
      for (let round = 0; round < rounds; round++) {
        const outcomes = await Promise.allSettled(
          Array.from({ length: writers }, () =>
            commands.execute(new Deposit('m-1', 1)),
          ),
        );
        const failed = outcomes.filter((o) => o.status === 'rejected');
        expect(failed.map((o) => String(o.reason))).toEqual([]);
        const versions = outcomes.map((o) =>
          o.status === 'fulfilled' ? o.value : 0,
        );
        // Each command saw the one before it: versions are one of each.
        expect(new Set(versions).size).toBe(writers);
      }
      // Queued, not raced: no handler had to run again after a conflict.
      expect(accountHooks.depositRuns).toBe(rounds * writers);
      const events = await stream('m-1');
      expect(events).toHaveLength(1 + rounds * writers);
      expect(balanceOf(events)).toBe(rounds * writers);
    });

    it('does not hold up commands on other aggregates', async () => {
      await commands.execute(new OpenAccount('u-1', [0]));
      await commands.execute(new OpenAccount('u-2', [0]));
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      accountHooks.beforeDeposit = (id) =>
        id === 'u-1' ? held : Promise.resolve();
      const blocked = commands.execute(new Deposit('u-1', 1));
      // u-1 is held mid-command; u-2 goes on.
      expect(await commands.execute(new Deposit('u-2', 1))).toBe(2);
      release();
      expect(await blocked).toBe(2);
    });
  });

  describe('commands committed together (group commit)', () => {
    it('50 concurrent deposits, ten of them sent twice at once with one id: each id takes effect once and both sends get its result', async () => {
      const accounts = Array.from({ length: 25 }, (_, i) => `gc-${i}`);
      for (const id of accounts)
        await commands.execute(new OpenAccount(id, [0]));
      const gateway = app.get(MessageGateway);
      // Two deposits per account, each of its own amount; the first ten also sent again with their ids.
      const sends = accounts.flatMap((account, i) => [
        { account, amount: 1 + i, id: newMessageId() },
        { account, amount: 100 + i, id: newMessageId() },
      ]);
      const repeated = sends.slice(0, 10);
      const before = accountHooks.depositRuns;

      const results = await Promise.all(
        [...sends, ...repeated].map(({ account, amount, id }) =>
          gateway.send(new Deposit(account, amount), { id }),
        ),
      );

      // A repeat answers with what its first send returned.
      repeated.forEach((_, i) =>
        expect(results[sends.length + i]).toBe(results[i]),
      );
      for (const [i, account] of accounts.entries()) {
        const events = await stream(account);
        expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
        expect(balanceOf(events)).toBe(1 + i + 100 + i);
      }
      expect(accountHooks.depositRuns - before).toBeLessThanOrEqual(
        sends.length + repeated.length,
      );
      for (const { id } of sends) {
        expect(await store.findHandledCommand(id)).toMatchObject({
          type: 'test.Deposit',
        });
      }
      // They went through shared statements, or this test proves nothing.
      const stats = (store as PostgresEventStore).groupCommit?.stats;
      expect(stats?.largestBatch).toBeGreaterThan(1);
    });
  });
}
