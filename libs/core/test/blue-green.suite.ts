import type { INestApplicationContext } from '@nestjs/common';
import {
  Command,
  CommandHandler,
  CommandType,
  Consumer,
  EventStore,
  HandleEvent,
  ProjectionTables,
  TrackingService,
  type ConsumerContext,
  type ICommandHandler,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  Deposited,
  deposited,
  FAST_TRACKING,
  trackingApp,
  waitFor,
} from './tracking.fixture.js';

// A projection rebuilt at a new version beside the live one (blue-green): the
// live version serves and tracks until the rebuild reaches the head, the
// rebuild sends nothing for history, and it ends with a fresh build's rows.

/** The history version 2 rebuilds: accounts × deposits per account. */
export interface BlueGreenHistory {
  readonly accounts: number;
  readonly perAccount: number;
}

/** 2,000 events: enough batches to watch a rebuild, cheap on embedded PGlite. */
const SMALL_HISTORY: BlueGreenHistory = { accounts: 40, perAccount: 50 };
const LARGE = 100;

@CommandType('bluegreen.NoteLargeDeposit')
class NoteLargeDeposit extends Command<void> {
  constructor(readonly account: string) {
    super();
  }
}

/** Every command handled, in every app of the test: what the consumers sent. */
const notes: string[] = [];

@CommandHandler(NoteLargeDeposit)
class NoteLargeDepositHandler implements ICommandHandler<NoteLargeDeposit> {
  async execute(command: NoteLargeDeposit): Promise<void> {
    notes.push(command.account);
  }
}

@Consumer('stock', {
  batchSize: 500,
  tables: [
    'CREATE TABLE totals (account text PRIMARY KEY, total int NOT NULL)',
  ],
})
class StockV1 {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    await (
      await context.sql()
    ).query(
      `INSERT INTO totals (account, total) VALUES ($1, $2)
       ON CONFLICT (account) DO UPDATE SET total = totals.total + EXCLUDED.total`,
      [event.account, event.amount],
    );
    if (event.amount >= LARGE) {
      await context.send(new NoteLargeDeposit(event.account));
      await context.schedule(new NoteLargeDeposit(event.account), {
        at: new Date(Date.now() + 3_600_000),
      });
    }
  }
}

/** Holds the rebuild at its first event until the test lets it go. */
const gate = {
  opened: Promise.resolve(),
  open: () => undefined as void,
  replayingSeen: 0,
};

@Consumer('stock', {
  version: 2,
  batchSize: 500,
  // Version 2 also counts deposits: a table version 1 never had.
  tables: [
    'CREATE TABLE totals (account text PRIMARY KEY, total int NOT NULL, deposits int NOT NULL)',
  ],
})
class StockV2 {
  // Another method name: a command it sent would get another derived id than
  // version 1's, so the receiver would run it again and the test would see it.
  @HandleEvent(Deposited)
  async onDepositedV2(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    await gate.opened;
    if (context.replaying) gate.replayingSeen++;
    await (
      await context.sql()
    ).query(
      `INSERT INTO totals (account, total, deposits) VALUES ($1, $2, 1)
       ON CONFLICT (account) DO UPDATE SET total = totals.total + EXCLUDED.total,
         deposits = totals.deposits + 1`,
      [event.account, event.amount],
    );
    if (event.amount >= LARGE) {
      await context.send(new NoteLargeDeposit(event.account));
      await context.schedule(new NoteLargeDeposit(event.account), {
        at: new Date(Date.now() + 3_600_000),
      });
    }
  }
}

interface Row {
  account: string;
  total: number;
  deposits?: number;
}

export function blueGreenSuite(
  database: () => TestDatabase,
  history: BlueGreenHistory = SMALL_HISTORY,
): void {
  const { accounts: ACCOUNTS, perAccount: PER_ACCOUNT } = history;
  // A build handles each event in a statement: room for a slow shared machine.
  const BUILD_MS = Math.max(30_000, ACCOUNTS * PER_ACCOUNT * 1.5);
  let client: SqlClient;
  let schema: string;
  const apps: INestApplicationContext[] = [];

  beforeEach(() => {
    client = database().client();
    schema = freshSchema('bg');
    notes.length = 0;
    gate.replayingSeen = 0;
    let open: () => void = () => undefined;
    gate.opened = new Promise<void>((resolve) => (open = resolve));
    gate.open = () => open();
  });

  afterEach(async () => {
    gate.open();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    const own = await client.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1::text)',
      [schema],
    );
    for (const { name } of own)
      await client.exec(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });

  const start = async (
    providers: Parameters<typeof trackingApp>[2],
  ): Promise<INestApplicationContext> => {
    const app = await trackingApp(client, schema, providers, {
      ...FAST_TRACKING,
      retiredSchemaGraceMs: 0,
    });
    apps.push(app);
    return app;
  };

  const totals = (app: INestApplicationContext): Promise<Row[]> =>
    app
      .get(ProjectionTables)
      .query<Row>('stock', 'SELECT * FROM totals ORDER BY account');

  it(
    `serves version 1 until version 2 reaches the head over ${(ACCOUNTS * PER_ACCOUNT).toLocaleString('en-US')} events, sends nothing while replaying, and ends with the rows of a fresh build`,
    async () => {
      const v1 = await start([StockV1, NoteLargeDepositHandler]);
      const store = v1.get(EventStore);
      // A fresh build's rows, worked out from the events themselves.
      const expected = new Map<string, { total: number; deposits: number }>();
      let large = 0;
      const record = (account: string, amount: number) => {
        const row = expected.get(account) ?? { total: 0, deposits: 0 };
        expected.set(account, {
          total: row.total + amount,
          deposits: row.deposits + 1,
        });
        if (amount >= LARGE) large++;
      };
      for (let a = 0; a < ACCOUNTS; a++) {
        const account = `acct-${String(a).padStart(2, '0')}`;
        const events = [];
        for (let i = 0; i < PER_ACCOUNT; i++) {
          const amount = (a * PER_ACCOUNT + i) % 97 === 0 ? LARGE : (i % 7) + 1;
          record(account, amount);
          events.push(deposited(account, amount));
        }
        await store.append(`account-${account}`, events);
      }
      const sum = (rows: Row[]) => rows.reduce((s, r) => s + r.total, 0);
      const expectedSum = () =>
        [...expected.values()].reduce((s, r) => s + r.total, 0);
      await waitFor(
        async () => sum(await totals(v1)) === expectedSum(),
        'version 1 built',
        BUILD_MS,
      );
      await waitFor(() => notes.length === large, 'version 1 sent its notes');
      const scheduled = async () => {
        const [row] = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}".schedules WHERE type = 'bluegreen.NoteLargeDeposit'`,
        );
        return row.n;
      };
      expect(await scheduled()).toBe(large);
      const v1Schema = `${schema}_projections_stock`;
      expect(await v1.get(ProjectionTables).schemaOf('stock')).toBe(v1Schema);

      // Version 2 is deployed beside it; its rebuild is held at the first event.
      const v2 = await start([StockV2, NoteLargeDepositHandler]);
      const v2Schema = `${schema}_projections_stock_v2`;
      const reads = v2.get(ProjectionTables);
      expect(await reads.schemaOf('stock')).toBe(v1Schema);
      const [building] = await v2.get(TrackingService).health('stock');
      expect(building.version).toMatchObject({
        version: 2,
        status: 'building',
        liveVersion: 1,
      });
      expect(building.version?.rebuild?.eventsTotal).toBe(
        ACCOUNTS * PER_ACCOUNT,
      );
      expect(building.version?.rebuild?.eventsDone).toBeLessThan(
        ACCOUNTS * PER_ACCOUNT,
      );
      // What the rebuild gauges show.
      expect(await v2.get(TrackingService).rebuilds()).toEqual([
        expect.objectContaining({
          consumer: 'stock',
          version: 2,
          eventsTotal: ACCOUNTS * PER_ACCOUNT,
        }),
      ]);

      // Version 1 keeps tracking live meanwhile, and keeps serving.
      await store.append('account-acct-00', [deposited('acct-00', LARGE)]);
      record('acct-00', LARGE);
      await waitFor(
        async () => sum(await totals(v2)) === expectedSum(),
        'version 1 projected the live deposit, read through version 2',
      );
      await waitFor(() => notes.length === large, 'version 1 sent its note');

      // Let the rebuild go; every read sees a complete projection, first
      // version 1's, then version 2's.
      gate.open();
      let schemaNow = v1Schema;
      while (schemaNow === v1Schema) {
        const rows = await totals(v2);
        expect(sum(rows)).toBe(expectedSum());
        schemaNow = await reads.schemaOf('stock');
        // Let timers run: embedded queries may resolve without yielding to them.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(schemaNow).toBe(v2Schema);

      // History was replayed, and none of its commands sent again.
      expect(gate.replayingSeen).toBe(ACCOUNTS * PER_ACCOUNT + 1);
      expect(notes).toHaveLength(large);
      expect(await scheduled()).toBe(large);
      const rows = await totals(v2);
      expect(rows).toEqual(
        [...expected.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([account, row]) => ({ account, ...row })),
      );

      // Version 1 stops and its schema goes (grace 0 in this test).
      await waitFor(async () => {
        const [old] = await v1.get(TrackingService).health('stock');
        return old.version?.status === 'retired';
      }, 'version 1 retired');
      await waitFor(
        async () =>
          (
            await client.query(
              'SELECT 1 FROM pg_namespace WHERE nspname = $1',
              [v1Schema],
            )
          ).length === 0,
        "version 1's schema dropped",
      );

      // Live now, version 2 sends for new events.
      await store.append('account-acct-01', [deposited('acct-01', LARGE)]);
      await waitFor(
        () => notes.length === large + 1,
        'version 2 sent a note for a new event',
      );
      await waitFor(
        async () => (await scheduled()) === large + 1,
        'version 2 scheduled a note for a new event',
      );
    },
    4 * BUILD_MS,
  );
}
