import type { INestApplicationContext } from '@nestjs/common';
import {
  Consumer,
  Documents,
  EventStore,
  HandleEvent,
  type ConsumerContext,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { BalanceDoc, documentsApp } from '../../test/documents.fixture.js';
import { Deposited, deposited } from '../../test/tracking.fixture.js';
import { waitUntil } from '../../test/wait-until.js';

/**
 * Keeps balances as BalanceDocuments does, and loses its batch's connection
 * (as a crash of the process or of PostgreSQL would) right after writing the
 * document of the deposit of 13, the first time.
 */
@Consumer('crashing-balances', { batchSize: 50, retryDelayMs: 5 })
class CrashingBalances {
  static crashed = false;

  constructor(private readonly documents: Documents) {}

  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    const current = await this.documents.get(BalanceDoc, event.account);
    await this.documents.index(
      BalanceDoc,
      event.account,
      {
        account: event.account,
        total: (current?.body.total ?? 0) + event.amount,
        events: (current?.body.events ?? 0) + 1,
      },
      { expectedRevision: current?.revision ?? 'absent' },
    );
    if (event.amount === 13 && !CrashingBalances.crashed) {
      CrashingBalances.crashed = true;
      await (
        await context.sql()
      ).query('SELECT pg_terminate_backend(pg_backend_pid())');
    }
  }
}

describe('Documents kept by a consumer on PostgreSQL, across a lost connection', () => {
  const database = postgresDatabase();
  const schema = freshSchema('dcrash');
  let app: INestApplicationContext | undefined;

  afterAll(async () => {
    await app?.close();
    await database
      .client()
      .exec(
        `DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_projections" CASCADE`,
      );
    await database.close();
  });

  it('writes each event once: what the lost transaction wrote is gone, and the batch runs again', async () => {
    app = await documentsApp(
      database.client(),
      schema,
      [BalanceDoc],
      [CrashingBalances],
    );
    const documents = app.get(Documents);
    const store = app.get(EventStore);
    const amounts = [5, 7, 13, 2, 1];
    for (const amount of amounts)
      await store.append('account-a', [deposited('a', amount)]);

    await waitUntil(
      async () =>
        (await documents.get(BalanceDoc, 'a'))?.body.events === amounts.length,
      'every deposit projected',
    );
    expect(CrashingBalances.crashed).toBe(true);
    const a = await documents.get(BalanceDoc, 'a');
    expect(a?.body).toEqual({ account: 'a', total: 28, events: 5 });
    expect(a?.revision).toBe(5);
  });
});
