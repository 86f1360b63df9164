import {
  Inject,
  Injectable,
  Module,
  type INestApplicationContext,
  type OnModuleInit,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import {
  ChronicleModule,
  Consumer,
  EventStore,
  HandleEvent,
  SQL_CLIENT,
  typeOrmConnectionOptions,
  type ConsumerContext,
  type DatabaseOptions,
  type SqlClient,
} from '../src/index.js';
import { freshSchema } from './databases.js';
import { Deposited, deposited, FAST_TRACKING } from './tracking.fixture.js';
import { waitUntil } from './wait-until.js';

// A projection as a newcomer writes one: every name unqualified, the table
// created through SQL_CLIENT and written through the consumer's context.

/** Named per test, so a table left in `public` by a broken run is never mistaken for this one's. */
const names = { table: '' };
const balancesTable = freshSchema('balances');

@Injectable()
@Consumer('deposits')
class DepositsProjection implements OnModuleInit {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  async onModuleInit(): Promise<void> {
    await this.sql.exec(`CREATE TABLE ${names.table} (account text)`);
    // An app table named like one of Chronicle's stays the app's own.
    await this.sql.exec('CREATE TABLE events (note text)');
  }

  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    await sql.query(`INSERT INTO ${names.table} (account) VALUES ($1)`, [
      event.account,
    ]);
    await sql.query('INSERT INTO events (note) VALUES ($1)', [event.account]);
  }
}

@Module({ providers: [DepositsProjection] })
class DepositsModule {}

@Entity({ name: balancesTable })
class Balance {
  @PrimaryColumn('text') account: string;
  @Column('int') total: number;
}

@Injectable()
@Consumer('balances')
class BalancesProjection {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    const manager = await context.entityManager();
    await manager.save(Balance, {
      account: event.account,
      total: event.amount,
    });
    // Plain SQL in the same (TypeORM) transaction resolves names the same way.
    const sql = await context.sql();
    await sql.query(
      `UPDATE ${balancesTable} SET total = total + 1 WHERE account = $1`,
      [event.account],
    );
  }
}

@Module({
  imports: [TypeOrmModule.forFeature([Balance])],
  providers: [BalancesProjection],
})
class BalancesModule {}

export interface ProjectionSchemaDatabase {
  /** Where the app's database is: a URL or embedded, never a client handed in. */
  readonly options: DatabaseOptions;
  /** Drops what an app on `schema` left behind, after it closed. */
  dropSchemas(...schemas: string[]): Promise<void>;
}

/** The schemas that hold a table of this name, as the app's connection sees them. */
async function schemasHolding(
  sql: SqlClient,
  table: string,
): Promise<string[]> {
  const rows = await sql.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 ORDER BY 1`,
    [table],
  );
  return rows.map((row) => row.schema);
}

/** Where an app's own SQL puts its tables, on connections Chronicle opens. */
export function projectionSchemaSuite(
  database: () => ProjectionSchemaDatabase,
): void {
  let app: INestApplicationContext | undefined;
  const dropped: string[] = [];

  beforeEach(() => {
    names.table = freshSchema('loans');
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await database().dropSchemas(...dropped.splice(0));
  });

  async function start(
    options: DatabaseOptions,
    imports: unknown[],
  ): Promise<INestApplicationContext> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({ database: options, tracking: FAST_TRACKING }),
        ...(imports as []),
      ],
    }).compile();
    app = await moduleRef.init();
    return app;
  }

  async function depositAndWait(
    running: INestApplicationContext,
    count: () => Promise<number>,
  ): Promise<void> {
    await running.get(EventStore).append('account-a', [deposited('a', 5)]);
    await waitUntil(async () => (await count()) === 1, 'the deposit projected');
  }

  it('puts the tables of SQL_CLIENT and context.sql() in <schema>_projections, not in public', async () => {
    const schema = freshSchema('proj');
    dropped.push(schema, `${schema}_projections`);
    const running = await start({ ...database().options, schema }, [
      DepositsModule,
    ]);
    const sql = running.get<SqlClient>(SQL_CLIENT);
    await depositAndWait(running, async () => {
      const [row] = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${names.table}`,
      );
      return row.n;
    });

    expect(await schemasHolding(sql, names.table)).toEqual([
      `${schema}_projections`,
    ]);
    expect(
      await sql.query(
        `SELECT account FROM "${schema}_projections".${names.table}`,
      ),
    ).toEqual([{ account: 'a' }]);
    // The app's `events` is its own; Chronicle's holds the one deposit.
    expect(await sql.query('SELECT note FROM events')).toEqual([{ note: 'a' }]);
    const [stored] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".events`,
    );
    expect(stored.n).toBe(1);
  });

  it('puts them in database.projectionSchema when it is set', async () => {
    const schema = freshSchema('proj');
    const projectionSchema = freshSchema('read_model');
    dropped.push(schema, projectionSchema);
    const running = await start(
      { ...database().options, schema, projectionSchema },
      [DepositsModule],
    );
    const sql = running.get<SqlClient>(SQL_CLIENT);
    await depositAndWait(running, async () => {
      const [row] = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${names.table}`,
      );
      return row.n;
    });
    expect(await schemasHolding(sql, names.table)).toEqual([projectionSchema]);
  });

  it('points TypeORM, through typeOrmConnectionOptions, at the same schema', async () => {
    const schema = freshSchema('proj');
    dropped.push(schema, `${schema}_projections`);
    const running = await start({ ...database().options, schema }, [
      TypeOrmModule.forRootAsync({
        inject: [SQL_CLIENT],
        useFactory: (client: SqlClient) => ({
          ...typeOrmConnectionOptions(client),
          entities: [Balance],
          synchronize: true,
        }),
      }),
      BalancesModule,
    ]);
    const dataSource = running.get(DataSource);
    await depositAndWait(running, async () => {
      const rows = await dataSource.getRepository(Balance).find();
      return rows.filter((row) => row.total === 6).length;
    });
    expect(
      await schemasHolding(running.get<SqlClient>(SQL_CLIENT), balancesTable),
    ).toEqual([`${schema}_projections`]);
  });
}
