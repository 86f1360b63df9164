import { Injectable, Module } from '@nestjs/common';
import {
  CommandBus,
  Consumer,
  HandleEvent,
  type StoredEvent,
} from '../src/index.js';
import {
  Deposit,
  Deposited,
  LedgerModule,
  Withdraw,
} from './message-log.fixture.js';

/**
 * A conversation of several hops in one app: a deposit to an `a-` account
 * makes the `mirror` consumer deposit the same amount to its `b-` twin (a
 * command that appends), and try a withdrawal there, which is refused (a
 * failed branch of the tree, kept to itself so the consumer goes on).
 */
@Consumer('mirror', { batchSize: 10 })
@Injectable()
export class MirrorConsumer {
  constructor(private readonly commands: CommandBus) {}

  @HandleEvent(Deposited)
  async onDeposited(event: Deposited, envelope: StoredEvent<Deposited>) {
    if (!event.account.startsWith('a-')) return;
    const twin = `b-${event.account.slice(2)}`;
    await this.commands.execute(new Deposit(twin, event.amount));
    await this.commands
      .execute(new Withdraw(twin))
      .catch(() => mirrored.refused.push(envelope.id));
    mirrored.done.push(envelope.id);
  }
}

/** What the mirror did, for the tests to wait on. */
export const mirrored = { done: [] as string[], refused: [] as string[] };

@Module({ imports: [LedgerModule], providers: [MirrorConsumer] })
export class MirrorModule {}
