import { Inject, Injectable, Module } from '@nestjs/common';
import {
  Command,
  CommandHandler,
  CommandType,
  Consumer,
  UnitOfWork,
  type ICommandHandler,
  Query,
  QueryHandler,
  QueryType,
  type IQueryHandler,
  HandleError,
  HandleEvent,
  HandleSchedule,
  ScheduleType,
  envelopeOf,
  type HandlingFailed,
} from '../src/index.js';
import { Deposited, Withdraw } from './message-log.fixture.js';

/** Handlers of the ledger's failures (see message-log.fixture.ts), each failing in one way. */

/** Every error message a handler of this process saw, with the instance that saw it. */
export interface SeenError {
  readonly by: string;
  readonly handler: string;
  readonly failed: HandlingFailed;
  readonly causationId?: unknown;
}

export const ERROR_WITNESS_NAME = Symbol('error-witness-name');

@Injectable()
export class ErrorWitness {
  readonly seen: SeenError[] = [];
  constructor(@Inject(ERROR_WITNESS_NAME) readonly name: string) {}

  record(handler: string, failed: HandlingFailed): void {
    this.seen.push({
      by: this.name,
      handler,
      failed,
      causationId: envelopeOf(failed)?.metadata.causationId,
    });
  }

  of(handler: string): HandlingFailed[] {
    return this.seen.filter((s) => s.handler === handler).map((s) => s.failed);
  }
}

/** An alerting app: the failures of `Withdraw`, by class. */
@Injectable()
export class WithdrawAlerts {
  constructor(private readonly witness: ErrorWitness) {}

  @HandleError(Withdraw)
  onWithdrawFailed(failed: HandlingFailed): void {
    this.witness.record('withdraw', failed);
  }
}

/** Every failure, and one handler that always throws on them. */
@Injectable()
export class AllErrors {
  constructor(private readonly witness: ErrorWitness) {}

  @HandleError()
  onAny(failed: HandlingFailed): void {
    this.witness.record('all', failed);
  }

  @HandleError('ledger.Withdraw', 'ledger.Reminder')
  explode(failed: HandlingFailed): void {
    this.witness.record('explode', failed);
    throw new Error(`the error handler broke on ${failed.messageId}`);
  }
}

/** Deposits to accounts named `flaky-*` fail twice, then succeed; `poison-*` always fail. */
@Injectable()
export class ConsumerFailures {
  readonly tries = new Map<string, number>();
}

@Consumer('error-retries', {
  maxAttempts: 3,
  retryDelayMs: 1,
  onError: 'skip',
})
export class RetryingConsumer {
  constructor(private readonly failures: ConsumerFailures) {}

  @HandleEvent(Deposited)
  onDeposited(event: Deposited): void {
    if (!event.account.startsWith('flaky-')) return;
    const tries = (this.failures.tries.get(event.account) ?? 0) + 1;
    this.failures.tries.set(event.account, tries);
    if (tries <= 2) throw new Error(`try ${tries} of ${event.account} fails`);
  }
}

@Consumer('error-skips', { maxAttempts: 1, onError: 'skip' })
export class SkippingConsumer {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited): void {
    if (event.account.startsWith('poison-')) {
      throw new Error(`${event.account} is poison`);
    }
  }
}

@Consumer('error-parks', { maxAttempts: 1, onError: 'park' })
export class ParkingConsumer {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited): void {
    if (event.account.startsWith('jam-')) {
      throw new Error(`${event.account} jams`);
    }
  }
}

@Consumer('error-stops', { maxAttempts: 1, onError: 'stop' })
export class StoppingConsumer {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited): void {
    if (event.account.startsWith('halt-')) {
      throw new Error(`${event.account} halts`);
    }
  }
}

@QueryType('ledger.Statement')
export class Statement extends Query<number> {
  constructor(readonly account: string) {
    super();
  }
}

@QueryHandler(Statement)
export class StatementHandler implements IQueryHandler<Statement> {
  execute(query: Statement): Promise<number> {
    return Promise.reject(new Error(`no statement for ${query.account}`));
  }
}

@ScheduleType('ledger.Reminder')
export class Reminder {
  constructor(readonly account: string) {}
}

@Injectable()
export class Reminders {
  @HandleSchedule(Reminder)
  remind(reminder: Reminder): void {
    throw new Error(`cannot remind ${reminder.account}`);
  }
}

/** Always loses the optimistic-concurrency race: retried, then it fails. */
@CommandType('ledger.Contended')
export class Contended extends Command<void> {
  constructor(readonly account: string) {
    super();
  }
}

@CommandHandler(Contended)
export class ContendedHandler implements ICommandHandler<Contended> {
  constructor(private readonly unitOfWork: UnitOfWork) {}
  async execute(command: Contended): Promise<void> {
    await this.unitOfWork.append(
      `contended-${command.account}`,
      [new Deposited(command.account, 1)],
      99,
    );
  }
}

@Module({
  providers: [
    ContendedHandler,
    ConsumerFailures,
    RetryingConsumer,
    SkippingConsumer,
    ParkingConsumer,
    StoppingConsumer,
    Reminders,
    StatementHandler,
  ],
})
export class FailingWorkModule {}

/** An app's error handlers, with the witness named after its instance. */
@Module({})
export class ErrorHandlersModule {
  static of(name: string, all = false) {
    return {
      module: ErrorHandlersModule,
      providers: [
        { provide: ERROR_WITNESS_NAME, useValue: name },
        ErrorWitness,
        WithdrawAlerts,
        ...(all ? [AllErrors] : []),
      ],
      exports: [ErrorWitness],
    };
  }
}
