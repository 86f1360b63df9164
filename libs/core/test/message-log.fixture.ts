import { Injectable, Module } from '@nestjs/common';
import {
  Command,
  CommandHandler,
  Query,
  QueryHandler,
  QueryType,
  type ICommandHandler,
  type IQueryHandler,
  CommandType,
  EventType,
  PersonalData,
  Secret,
  UnitOfWork,
  ChronicleError,
  ErrorType,
} from '../src/index.js';

/** Commands of a small ledger, each exercising one way a handling ends. */

@EventType('ledger.Deposited')
export class Deposited {
  constructor(
    readonly account: string,
    readonly amount: number,
  ) {}
}

export class Holder {
  @PersonalData() readonly name: string;
  readonly country: string;
  constructor(name: string, country: string) {
    this.name = name;
    this.country = country;
  }
}

@CommandType('ledger.Deposit')
export class Deposit extends Command<{ account: string }> {
  readonly account: string;
  readonly amount: number;
  @PersonalData() readonly email: string | null;
  @Secret() readonly pin: string | null;
  readonly holder: Holder | null;
  constructor(
    account: string,
    amount: number,
    extra: { email?: string; pin?: string; holder?: Holder } = {},
  ) {
    super();
    this.account = account;
    this.amount = amount;
    this.email = extra.email ?? null;
    this.pin = extra.pin ?? null;
    this.holder = extra.holder ?? null;
  }
}

@CommandType('ledger.Ping')
export class Ping extends Command<string> {
  constructor(readonly word: string) {
    super();
  }
}

@ErrorType('ledger.Overdrawn')
export class Overdrawn extends ChronicleError {
  readonly code = 'OVERDRAWN';
  constructor(readonly account: string) {
    super(`Account ${account} would be overdrawn.`);
  }
}

@CommandType('ledger.Withdraw')
export class Withdraw extends Command<void> {
  constructor(readonly account: string) {
    super();
  }
}

/** Appends its event, then an enlisted write fails: the events roll back. */
@CommandType('ledger.DepositThenFail')
export class DepositThenFail extends Command<void> {
  constructor(readonly account: string) {
    super();
  }
}

/** Fails twice with a conflict, then succeeds: one log row, the last outcome. */
@CommandType('ledger.Flaky')
export class Flaky extends Command<number> {
  constructor(readonly account: string) {
    super();
  }
}

@QueryType('ledger.Balance')
export class Balance extends Query<number> {
  constructor(readonly account: string) {
    super();
  }
}

@QueryHandler(Balance)
export class BalanceHandler implements IQueryHandler<Balance> {
  execute(query: Balance): Promise<number> {
    return Promise.resolve(query.account.length);
  }
}

@Injectable()
export class Attempts {
  readonly byAccount = new Map<string, number>();
}

@CommandHandler(Deposit)
export class DepositHandler implements ICommandHandler<Deposit> {
  constructor(private readonly unitOfWork: UnitOfWork) {}
  async execute(command: Deposit) {
    await this.unitOfWork.append(
      `account-${command.account}`,
      [new Deposited(command.account, command.amount)],
      'any',
    );
    return { account: command.account };
  }
}

@CommandHandler(Ping)
export class PingHandler implements ICommandHandler<Ping> {
  execute(command: Ping) {
    return Promise.resolve(`pong ${command.word}`);
  }
}

@CommandHandler(Withdraw)
export class WithdrawHandler implements ICommandHandler<Withdraw> {
  execute(command: Withdraw): Promise<void> {
    return Promise.reject(new Overdrawn(command.account));
  }
}

@CommandHandler(DepositThenFail)
export class DepositThenFailHandler implements ICommandHandler<DepositThenFail> {
  constructor(private readonly unitOfWork: UnitOfWork) {}
  async execute(command: DepositThenFail) {
    await this.unitOfWork.append(
      `account-${command.account}`,
      [new Deposited(command.account, 1)],
      'any',
    );
    await this.unitOfWork.enlist(async (tx) => {
      await tx.query('SELECT 1/0');
    });
  }
}

@CommandHandler(Flaky)
export class FlakyHandler implements ICommandHandler<Flaky> {
  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly attempts: Attempts,
  ) {}
  async execute(command: Flaky) {
    const attempt = (this.attempts.byAccount.get(command.account) ?? 0) + 1;
    this.attempts.byAccount.set(command.account, attempt);
    // The first two attempts expect a version the stream is past: a conflict, retried.
    await this.unitOfWork.append(
      `flaky-${command.account}`,
      [new Deposited(command.account, attempt)],
      attempt < 3 ? 99 : 'any',
    );
    return attempt;
  }
}

@Module({
  providers: [
    Attempts,
    DepositHandler,
    PingHandler,
    WithdrawHandler,
    DepositThenFailHandler,
    FlakyHandler,
    BalanceHandler,
  ],
})
export class LedgerModule {}
