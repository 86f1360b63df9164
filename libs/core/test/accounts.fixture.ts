import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  Command,
  CommandBus,
  CommandHandler,
  CommandType,
  EventType,
  InjectAggregateRepository,
  type ICommandHandler,
} from '../src/index.js';

// A bank account: the smallest domain where a decision on stale state shows.

@EventType('test.AccountOpened')
export class AccountOpened {
  constructor(
    readonly accountId: string,
    readonly balance: number,
  ) {}
}

@EventType('test.MoneyWithdrawn')
export class MoneyWithdrawn {
  constructor(
    readonly accountId: string,
    readonly amount: number,
  ) {}
}

@EventType('test.MoneyDeposited')
export class MoneyDeposited {
  constructor(
    readonly accountId: string,
    readonly amount: number,
  ) {}
}

export class InsufficientFunds extends Error {}
/** Lets a test hold a Deposit between its load and its save. */
export const accountHooks = {
  beforeDeposit: async (_accountId: string): Promise<void> => undefined,
  /** How many times a Deposit handler ran, re-runs after a conflict included. */
  depositRuns: 0,
};

export class AccountAlreadyOpen extends Error {}

@Aggregate({ type: 'test.Account' })
export class Account extends AggregateRoot {
  opened = false;
  balance = 0;

  open(balance: number): void {
    if (this.opened) throw new AccountAlreadyOpen(`${this.id} is open`);
    this.apply(new AccountOpened(this.id, balance));
  }

  withdraw(amount: number): void {
    if (amount > this.balance) {
      throw new InsufficientFunds(
        `${this.id} holds ${this.balance}, cannot withdraw ${amount}`,
      );
    }
    this.apply(new MoneyWithdrawn(this.id, amount));
  }

  deposit(amount: number): void {
    this.apply(new MoneyDeposited(this.id, amount));
  }

  @Apply(AccountOpened)
  onOpened(event: AccountOpened): void {
    this.opened = true;
    this.balance = event.balance;
  }

  @Apply(MoneyWithdrawn)
  onWithdrawn(event: MoneyWithdrawn): void {
    this.balance -= event.amount;
  }

  @Apply(MoneyDeposited)
  onDeposited(event: MoneyDeposited): void {
    this.balance += event.amount;
  }
}

/** Opens an account, once per amount, each time through its own `loadOrCreate`. */
@CommandType('test.OpenAccount')
export class OpenAccount extends Command<void> {
  constructor(
    readonly accountId: string,
    readonly balances: number[],
  ) {
    super();
  }
}

/**
 * Withdraws each amount after loading the account again, as two services
 * called by one handler would: each decision must see the ones before it.
 */
@CommandType('test.WithdrawEach')
export class WithdrawEach extends Command<{ sameInstance: boolean }> {
  constructor(
    readonly accountId: string,
    readonly amounts: number[],
    readonly how: 'load' | 'find' | 'loadOrCreate' = 'load',
  ) {
    super();
  }
}

/** Opens an account once per balance, each time on a `create`d instance: outside the identity map. */
@CommandType('test.OpenByCreate')
export class OpenByCreate extends Command<void> {
  constructor(
    readonly accountId: string,
    readonly balances: number[],
  ) {
    super();
  }
}

@CommandType('test.Deposit')
export class Deposit extends Command<number> {
  constructor(
    readonly accountId: string,
    readonly amount: number,
  ) {
    super();
  }
}

@CommandType('test.Transfer')
export class Transfer extends Command<void> {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly amount: number,
  ) {
    super();
  }
}

/** Loads the account, then waits for a nested Deposit on the same account before saving its own. */
@CommandType('test.DepositTwiceNested')
export class DepositTwiceNested extends Command<void> {
  constructor(
    readonly accountId: string,
    readonly amount: number,
  ) {
    super();
  }
}

@CommandHandler(OpenAccount)
export class OpenAccountHandler implements ICommandHandler<OpenAccount> {
  constructor(
    @InjectAggregateRepository(Account)
    private readonly accounts: AggregateRepository<Account>,
  ) {}

  async execute({ accountId, balances }: OpenAccount): Promise<void> {
    for (const balance of balances) {
      const account = await this.accounts.loadOrCreate(accountId);
      account.open(balance);
      await this.accounts.save(account);
    }
  }
}

@CommandHandler(OpenByCreate)
export class OpenByCreateHandler implements ICommandHandler<OpenByCreate> {
  constructor(
    @InjectAggregateRepository(Account)
    private readonly accounts: AggregateRepository<Account>,
  ) {}

  async execute({ accountId, balances }: OpenByCreate): Promise<void> {
    for (const balance of balances) {
      const account = this.accounts.create(accountId);
      account.open(balance);
      await this.accounts.save(account);
    }
  }
}

@CommandHandler(WithdrawEach)
export class WithdrawEachHandler implements ICommandHandler<WithdrawEach> {
  constructor(
    @InjectAggregateRepository(Account)
    private readonly accounts: AggregateRepository<Account>,
  ) {}

  async execute({ accountId, amounts, how }: WithdrawEach) {
    const seen = new Set<Account>();
    for (const amount of amounts) {
      const account =
        how === 'find'
          ? await this.accounts.find(accountId)
          : await this.accounts[how](accountId);
      if (!account) throw new Error(`${accountId} not found`);
      seen.add(account);
      account.withdraw(amount);
      await this.accounts.save(account);
    }
    return { sameInstance: seen.size === 1 };
  }
}

@CommandHandler(Deposit)
export class DepositHandler implements ICommandHandler<Deposit> {
  constructor(
    @InjectAggregateRepository(Account)
    private readonly accounts: AggregateRepository<Account>,
  ) {}

  async execute({ accountId, amount }: Deposit): Promise<number> {
    accountHooks.depositRuns++;
    const account = await this.accounts.load(accountId);
    await accountHooks.beforeDeposit(accountId);
    account.deposit(amount);
    await this.accounts.save(account);
    return account.version;
  }
}

@CommandHandler(Transfer)
export class TransferHandler implements ICommandHandler<Transfer> {
  constructor(
    @InjectAggregateRepository(Account)
    private readonly accounts: AggregateRepository<Account>,
  ) {}

  async execute({ from, to, amount }: Transfer): Promise<void> {
    const source = await this.accounts.load(from);
    // Give a transfer the other way time to take its first account too.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const target = await this.accounts.load(to);
    source.withdraw(amount);
    target.deposit(amount);
    await this.accounts.save(source);
    await this.accounts.save(target);
  }
}

@CommandHandler(DepositTwiceNested)
export class DepositTwiceNestedHandler implements ICommandHandler<DepositTwiceNested> {
  constructor(
    @InjectAggregateRepository(Account)
    private readonly accounts: AggregateRepository<Account>,
    private readonly commands: CommandBus,
  ) {}

  async execute({ accountId, amount }: DepositTwiceNested): Promise<void> {
    const account = await this.accounts.load(accountId);
    await this.commands.execute(new Deposit(accountId, amount));
    account.deposit(amount);
    await this.accounts.save(account);
  }
}

export const accountHandlers = [
  OpenAccountHandler,
  OpenByCreateHandler,
  WithdrawEachHandler,
  DepositHandler,
  TransferHandler,
  DepositTwiceNestedHandler,
];
