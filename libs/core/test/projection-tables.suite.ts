import type { INestApplicationContext } from '@nestjs/common';
import {
  Consumer,
  EventStore,
  HandleEvent,
  OnReset,
  ProjectionTables,
  TrackingService,
  type ConsumerContext,
  type SqlClient,
} from '../src/index.js';
import type { TestDatabase } from './databases.js';
import { freshSchema } from './databases.js';
import {
  Deposited,
  deposited,
  trackingApp,
  waitFor,
} from './tracking.fixture.js';

// A consumer that declares its tables and writes them unqualified: Chronicle
// makes its schema, points its transactions there, and empties it on reset.

const resets = { count: 0 };

@Consumer('stock-levels', {
  tables: [
    'CREATE TABLE stock (account text NOT NULL, amount int NOT NULL)',
    'CREATE INDEX stock_account ON stock (account)',
  ],
})
class StockLevels {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    // Insert only: a replay that did not empty the table would double the rows.
    await sql.query('INSERT INTO stock (account, amount) VALUES ($1, $2)', [
      event.account,
      event.amount,
    ]);
  }

  @OnReset()
  onReset(): void {
    resets.count++;
  }
}

@Consumer('ledger', {
  schema: 'ledger_tables',
  tables: ['CREATE TABLE entries (account text)'],
})
class Ledger {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    await (
      await context.sql()
    ).query('INSERT INTO entries (account) VALUES ($1)', [event.account]);
  }
}

@Consumer('ledger', {
  schema: 'ledger_moved',
  tables: ['CREATE TABLE entries (account text)'],
})
class LedgerMoved {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

@Consumer('badly-named', {
  schema: 'Not A Schema',
  tables: ['CREATE TABLE t (x int)'],
})
class BadlyNamed {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

@Consumer('stock-copy', {
  schema: 'ledger_tables',
  tables: ['CREATE TABLE copies (x int)'],
})
class SameSchemaAsLedger {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

async function stockRows(
  app: INestApplicationContext,
): Promise<{ account: string; amount: number }[]> {
  return app.get(ProjectionTables).query<{
    account: string;
    amount: number;
  }>('stock-levels', 'SELECT account, amount FROM stock ORDER BY account, amount');
}

export function projectionTablesSuite(database: () => TestDatabase): void {
  let client: SqlClient;
  let schema: string;
  const apps: INestApplicationContext[] = [];

  const start = async (
    providers: Parameters<typeof trackingApp>[2],
    tracking?: Parameters<typeof trackingApp>[3],
  ) => {
    const app = await trackingApp(client, schema, providers, tracking);
    apps.push(app);
    return app;
  };

  beforeEach(() => {
    client = database().client();
    schema = freshSchema('pt');
    resets.count = 0;
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    const own = await client.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1::text)',
      [schema],
    );
    for (const { name } of own)
      await client.exec(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });

  it('creates the schema and tables at start and points context.sql() at them', async () => {
    const app = await start([StockLevels]);
    const tables = app.get(ProjectionTables);
    const own = `${schema}_projections_stock_levels`;
    expect(await tables.schemaOf('stock-levels')).toBe(own);
    expect(await tables.table('stock-levels', 'stock')).toBe(
      `"${own}"."stock"`,
    );

    await app
      .get(EventStore)
      .append('account-a', [deposited('a', 5), deposited('a', 7)]);
    await waitFor(
      async () => (await stockRows(app)).length === 2,
      'both deposits projected',
    );
    expect(await stockRows(app)).toEqual([
      { account: 'a', amount: 5 },
      { account: 'a', amount: 7 },
    ]);
    // The table is in the consumer's schema, nowhere else.
    const holders = await client.query<{ schema: string }>(
      `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = 'stock' AND starts_with(n.nspname, $1::text)`,
      [schema],
    );
    expect(holders).toEqual([{ schema: own }]);
  });

  it('reads the live schema again when the one it looked up was dropped by a switch in between', async () => {
    const app = await start([StockLevels]);
    await app.get(EventStore).append('account-a', [deposited('a', 5)]);
    await waitFor(
      async () => (await stockRows(app)).length === 1,
      'the deposit projected',
    );
    // The race: a read looks up the live schema, then a blue-green switch
    // retires it and drops it (grace 0) before the read runs there.
    const tracking = app.get(TrackingService);
    const live = tracking.schemaOf.bind(tracking);
    let lookups = 0;
    tracking.schemaOf = async (consumer: string) =>
      lookups++ === 0
        ? `${schema}_projections_retired_and_dropped`
        : live(consumer);
    expect(await stockRows(app)).toEqual([{ account: 'a', amount: 5 }]);
    expect(lookups).toBe(2);
    // A table missing from the live schema is the caller's error, not a race.
    await expect(
      app.get(ProjectionTables).query('stock-levels', 'SELECT * FROM nowhere'),
    ).rejects.toThrow(/nowhere/);
  });

  it('lets two instances start at once, and a restart, without failing', async () => {
    const [one, two] = await Promise.all([
      start([StockLevels]),
      start([StockLevels]),
    ]);
    await one.close();
    apps.splice(apps.indexOf(one), 1);
    const three = await start([StockLevels]);
    await three.get(EventStore).append('account-b', [deposited('b', 1)]);
    await waitFor(
      async () => (await stockRows(two)).length === 1,
      'the deposit projected',
    );
    expect(await stockRows(three)).toEqual([{ account: 'b', amount: 1 }]);
  });

  it('empties the tables on a reset to the beginning, and still runs @OnReset', async () => {
    const app = await start([StockLevels]);
    await app
      .get(EventStore)
      .append('account-c', [deposited('c', 1), deposited('c', 2)]);
    await waitFor(
      async () => (await stockRows(app)).length === 2,
      'the deposits projected',
    );

    await app.get(TrackingService).reset('stock-levels', { to: 'beginning' });
    expect(resets.count).toBe(1);
    await app.get(EventStore).append('account-c', [deposited('c', 3)], {
      expectedVersion: 2,
    });
    await waitFor(
      async () => (await stockRows(app)).length >= 3,
      'the replay and the new deposit projected',
    );
    expect(await stockRows(app)).toEqual([
      { account: 'c', amount: 1 },
      { account: 'c', amount: 2 },
      { account: 'c', amount: 3 },
    ]);
  });

  it('keeps the tables in the schema option, behind the tracking schemaPrefix', async () => {
    const app = await start([Ledger], {
      pollIntervalMs: 20,
      maxPollIntervalMs: 200,
      schemaPrefix: `${schema}_`,
    });
    expect(await app.get(ProjectionTables).schemaOf('ledger')).toBe(
      `${schema}_ledger_tables`,
    );
    await app.get(EventStore).append('account-d', [deposited('d', 1)]);
    await waitFor(
      async () =>
        (
          await app
            .get(ProjectionTables)
            .query('ledger', 'SELECT account FROM entries')
        ).length === 1,
      'the entry projected',
    );
  });

  it('refuses a schema name that would need quoting, naming the consumer', async () => {
    await expect(start([BadlyNamed])).rejects.toThrow(
      /schema of consumer "badly-named" "Not A Schema" is not allowed/,
    );
  });

  it('refuses to move a version to another schema, whose tables would stay empty', async () => {
    const prefixed = {
      pollIntervalMs: 20,
      maxPollIntervalMs: 200,
      schemaPrefix: `${schema}_`,
    };
    const first = await start([Ledger], prefixed);
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    await expect(start([LedgerMoved], prefixed)).rejects.toThrow(
      new RegExp(
        `keeps its tables in schema "${schema}_ledger_tables", and now asks for "${schema}_ledger_moved".*raise its version`,
      ),
    );
  });

  it('refuses two consumers in one schema', async () => {
    await expect(start([Ledger, SameSchemaAsLedger])).rejects.toThrow(
      /both keep their tables in schema "ledger_tables"/,
    );
  });

  it('says so when asked for the tables of a consumer that declares none', async () => {
    const app = await start([StockLevels, LedgerWithoutTables]);
    await expect(
      app.get(ProjectionTables).schemaOf('plain'),
    ).rejects.toMatchObject({ code: 'NO_CONSUMER_TABLES' });
  });
}

@Consumer('plain')
class LedgerWithoutTables {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}
