import {
  AggregateRepository,
  Command,
  CommandHandler,
  CommandType,
  InjectAggregateRepository,
  newMessageId,
  type ICommandHandler,
} from '@chronicle/core';
import { Inject, Module } from '@nestjs/common';
import {
  CommandHandler as CqrsCommandHandler,
  CqrsModule,
  Command as CqrsCommand,
  type ICommandHandler as CqrsICommandHandler,
} from '@nestjs/cqrs';
import type pg from 'pg';
import {
  Account,
  AccountClosed,
  accountStream,
  DEPOSITED,
  foldAccount,
} from './account.js';

// The command of the commands benchmark, three ways: through Chronicle, as
// plain SQL, and as plain SQL behind an ordinary @nestjs/cqrs CommandBus.

/** Chronicle's command: the handler loads the account, deposits, saves. */
@CommandType('bench.Deposit')
export class Deposit extends Command<number> {
  constructor(
    readonly accountId: string,
    readonly amount: number,
    readonly reference: string,
  ) {
    super();
  }
}

@CommandHandler(Deposit)
export class DepositHandler implements ICommandHandler<Deposit> {
  constructor(
    @InjectAggregateRepository(Account)
    private readonly accounts: AggregateRepository<Account>,
  ) {}

  async execute(command: Deposit): Promise<number> {
    const account = await this.accounts.load(command.accountId);
    account.deposit(command.amount, command.reference);
    await this.accounts.save(account);
    return account.version;
  }
}

export type RawDeposit = (
  accountId: string,
  amount: number,
  reference: string,
) => Promise<number>;

/**
 * The same command as plain SQL: select the stream's events (pg parses the
 * jsonb), fold them, insert one event at version + 1 with the same JSON
 * payload and metadata shape. The (stream_id, stream_version) unique
 * constraint is the optimistic concurrency check, as it is for Chronicle.
 */
export function rawDeposit(pool: pg.Pool, table: string): RawDeposit {
  const select = `SELECT type, payload FROM ${table} WHERE stream_id = $1::text ORDER BY stream_version`;
  const insert =
    `INSERT INTO ${table} (id, stream_id, stream_version, type, revision, payload, metadata, created_at) ` +
    `VALUES ($1::uuid, $2::text, $3::bigint, $4::text, $5::int, $6::jsonb, $7::jsonb, $8::timestamptz)`;
  return async (accountId, amount, reference) => {
    const streamId = accountStream(accountId);
    const { rows } = await pool.query<{ type: string; payload: unknown }>(
      select,
      [streamId],
    );
    const state = foldAccount(rows);
    if (state.owner === '') throw new AccountClosed(`No account ${accountId}`);
    const commandId = newMessageId();
    const version = state.version + 1;
    await pool.query(insert, [
      newMessageId(),
      streamId,
      version,
      DEPOSITED,
      1,
      JSON.stringify({ amount, reference }),
      JSON.stringify({ correlationId: commandId, causationId: commandId }),
      new Date().toISOString(),
    ]);
    return version;
  };
}

/** The baseline's command, for a bare @nestjs/cqrs app. */
export class PlainDeposit extends CqrsCommand<number> {
  constructor(
    readonly accountId: string,
    readonly amount: number,
    readonly reference: string,
  ) {
    super();
  }
}

export const RAW_DEPOSIT = Symbol('bench:raw-deposit');

@CqrsCommandHandler(PlainDeposit)
export class PlainDepositHandler implements CqrsICommandHandler<PlainDeposit> {
  constructor(@Inject(RAW_DEPOSIT) private readonly deposit: RawDeposit) {}

  execute(command: PlainDeposit): Promise<number> {
    return this.deposit(command.accountId, command.amount, command.reference);
  }
}

/** A bare @nestjs/cqrs app whose handler does the raw-pg work. */
export function plainCqrsModule(deposit: RawDeposit) {
  @Module({
    imports: [CqrsModule.forRoot()],
    providers: [
      PlainDepositHandler,
      { provide: RAW_DEPOSIT, useValue: deposit },
    ],
  })
  class PlainCqrsModule {}
  return PlainCqrsModule;
}
