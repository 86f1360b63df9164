import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import {
  Column,
  DataSource,
  Entity,
  PrimaryColumn,
  type EntityManager,
} from 'typeorm';
import {
  ChronicleModule,
  Consumer,
  EventStore,
  HandleEvent,
  OnReset,
  SQL_CLIENT,
  typeOrmConnectionOptions,
  type SqlClient,
  TrackingService,
  type ConsumerContext,
  type StoredEvent,
} from '../index.js';
import { DATABASE_URL, freshSchema } from '../../test/databases.js';
import {
  Deposited,
  FAST_TRACKING,
  deposited,
  waitFor,
} from '../../test/tracking.fixture.js';

const schema = freshSchema('orm');

@Entity({ name: 'account_summary', schema })
class AccountSummary {
  @PrimaryColumn('text') account: string;
  @Column('int') total: number;
  @Column('int') events: number;
}

/** Fails once after writing, the first time it sees amount 13: that write must not survive. */
const flaky = { failed: false };
/** The stream versions the handler read through the store after writing. */
const readBack: number[] = [];

@Consumer('account-summary', { segments: 2, retryDelayMs: 5 })
class AccountSummaryProjection {
  constructor(private readonly store: EventStore) {}

  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: StoredEvent<Deposited>,
    context: ConsumerContext,
  ): Promise<void> {
    const manager: EntityManager = await context.entityManager();
    const row = await manager.findOneBy(AccountSummary, {
      account: event.account,
    });
    await manager.save(AccountSummary, {
      account: event.account,
      total: (row?.total ?? 0) + event.amount,
      events: (row?.events ?? 0) + 1,
    });
    // A read through the store after the write: on PGlite's one session it
    // must join the transaction, not wait for it.
    readBack.push(await this.store.streamVersion(_envelope.streamId));
    if (event.amount === 13 && !flaky.failed) {
      flaky.failed = true;
      throw new Error('failed after writing');
    }
  }

  @OnReset()
  async clear(context: ConsumerContext): Promise<void> {
    await (await context.entityManager()).clear(AccountSummary);
  }
}

// The same consumer on PostgreSQL and on the embedded PGlite: TypeORM reaches
// Chronicle's database through typeOrmConnectionOptions in both.
describe.each<[string, { url?: string; embedded?: boolean }]>([
  ['PostgreSQL', { url: DATABASE_URL }],
  ['embedded PGlite', { embedded: true }],
])('Consumers writing through a TypeORM EntityManager (%s)', (_, database) => {
  let app: INestApplicationContext;
  let dataSource: DataSource;

  beforeAll(async () => {
    flaky.failed = false;
    @Module({
      imports: [TypeOrmModule.forFeature([AccountSummary])],
      providers: [AccountSummaryProjection],
    })
    class ProjectionsModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: { ...database, schema },
          tracking: FAST_TRACKING,
        }),
        TypeOrmModule.forRootAsync({
          inject: [SQL_CLIENT],
          useFactory: (client: SqlClient) => ({
            ...typeOrmConnectionOptions(client),
            entities: [AccountSummary],
            synchronize: false,
          }),
        }),
        ProjectionsModule,
      ],
    }).compile();
    dataSource = moduleRef.get(DataSource);
    // Before the consumers start (init): the read model's table.
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await dataSource.query(
      `CREATE TABLE "${schema}".account_summary (account text PRIMARY KEY, total int NOT NULL, events int NOT NULL)`,
    );
    app = await moduleRef.init();
  });

  afterAll(async () => {
    await app?.close();
    if (database.url) {
      // The app's connections are closed: drop the test's schema on a new one.
      const cleanup = new pg.Client({ connectionString: database.url });
      await cleanup.connect();
      await cleanup.query(
        `DROP SCHEMA IF EXISTS "${schema}", "${schema}_projections" CASCADE`,
      );
      await cleanup.end();
    }
  });

  const rows = () =>
    dataSource.query<{ account: string; total: number; events: number }[]>(
      `SELECT account, total, events FROM "${schema}".account_summary ORDER BY account`,
    );

  it('commits the EntityManager writes with the position: a failed try leaves nothing behind, a reset replays identically', async () => {
    const store = app.get(EventStore);
    const amounts = [5, 13, 7, 1, 2, 3];
    for (const [i, amount] of amounts.entries()) {
      const account = `acct-${i % 2}`;
      await store.append(account, [deposited(account, amount)]);
    }
    await waitFor(
      async () =>
        (await rows()).reduce((n, r) => n + r.events, 0) === amounts.length,
      'every event in the read model',
    );
    expect(flaky.failed).toBe(true);
    expect(readBack.length).toBeGreaterThanOrEqual(amounts.length);
    const first = await rows();
    // 13 was written, then its try failed: counted once, not twice.
    expect(first).toEqual([
      { account: 'acct-0', total: 5 + 7 + 2, events: 3 },
      { account: 'acct-1', total: 13 + 1 + 3, events: 3 },
    ]);

    const tracking = app.get(TrackingService);
    await tracking.reset('account-summary', { to: 'beginning' });
    await waitFor(
      async () =>
        (await rows()).reduce((n, r) => n + r.events, 0) === amounts.length,
      'the replay',
    );
    expect(await rows()).toEqual(first);
  });
});
