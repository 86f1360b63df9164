import { Test } from '@nestjs/testing';
import {
  Inject,
  Injectable,
  Module,
  type INestApplicationContext,
  type OnModuleInit,
} from '@nestjs/common';
import {
  ChronicleModule,
  MessageGateway,
  MessageLogPartitions,
  SQL_CLIENT,
  StoreSchema,
  type MessageLogOptions,
  type SqlClient,
} from '../src/index.js';
import {
  DAYS_AHEAD,
  LOGGED_KINDS,
  resolveMessageLogOptions,
} from '../src/message-log/index.js';
import {
  addDays,
  dayOf,
  partitionName,
} from '../src/message-log/partition-days.js';
import { freshSchema, type TestDatabase } from './databases.js';
import { Deposit, LedgerModule } from './message-log.fixture.js';
import { waitUntil } from './wait-until.js';

const DAY_MS = 86_400_000;

/** What the earliest of the app's init hooks finds: today's command partition, or not. */
@Injectable()
class EarlyLooker implements OnModuleInit {
  static found: boolean | undefined;
  static table = '';

  constructor(@Inject(SQL_CLIENT) private readonly client: SqlClient) {}

  async onModuleInit(): Promise<void> {
    const [row] = await this.client.query<{ found: boolean }>(
      'SELECT to_regclass($1::text) IS NOT NULL AS found',
      [EarlyLooker.table],
    );
    EarlyLooker.found = row.found;
  }
}

@Module({ providers: [EarlyLooker] })
class EarlyModule {}

/**
 * The message log's day partitions and retention, on either driver: made
 * ahead at start, dropped past each kind's retention, the default
 * partition emptied into them. Time moves by the `now` given to `maintain`.
 */
export function logRetentionSuite(database: () => TestDatabase): void {
  const apps: INestApplicationContext[] = [];
  let schema: string;
  let client: SqlClient;

  const schemas = new Set<string>();

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    // Each schema holds a dozen partitions with their indexes: not left behind.
    for (const name of schemas) {
      await database()
        .client()
        .exec(
          `DROP SCHEMA IF EXISTS "${name}" CASCADE; DROP SCHEMA IF EXISTS "${name}_projections" CASCADE;`,
        );
    }
    schemas.clear();
  });

  async function start(
    messageLog: MessageLogOptions | boolean = {},
    onSchema = freshSchema('mlr'),
    on: SqlClient = database().client(),
  ) {
    schema = onSchema;
    client = on;
    schemas.add(onSchema);
    EarlyLooker.table = `"${onSchema}".${partitionName('command', dayOf(new Date()))}`;
    const moduleRef = await Test.createTestingModule({
      imports: [
        EarlyModule,
        ChronicleModule.forRoot({
          app: 'ledger',
          database: { client: on, schema: onSchema },
          messageLog,
        }),
        LedgerModule,
      ],
    }).compile();
    const app = await moduleRef.init();
    apps.push(app);
    return {
      gateway: app.get(MessageGateway),
      partitions: app.get(MessageLogPartitions),
    };
  }

  /** Partitions of message_log, by name. */
  async function partitionNames(): Promise<string[]> {
    const rows = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = $1::text::regclass ORDER BY 1`,
      [`"${schema}".message_log`],
    );
    return rows.map((row) => row.name);
  }

  /** Where each row is: id -> partition. */
  async function placeOfRows(): Promise<Record<string, string>> {
    const rows = await client.query<{ id: string; partition: string }>(
      `SELECT m.id, c.relname AS partition
         FROM "${schema}".message_log m JOIN pg_class c ON c.oid = m.tableoid`,
    );
    return Object.fromEntries(rows.map((row) => [row.id, row.partition]));
  }

  async function insertRow(kind: string, id: string, at: Date): Promise<void> {
    await client.query(
      `INSERT INTO "${schema}".message_log (kind, logged_at, id, type, outcome)
       VALUES ($1::text, $2::timestamptz, $3::text, 'ledger.Test', 'ok')`,
      [kind, at.toISOString(), id],
    );
  }

  const later = (at: Date, days: number) =>
    new Date(at.getTime() + days * DAY_MS);

  it("has today's and the next days' partitions (DAYS_AHEAD) of every kind once started", async () => {
    const before = new Date();
    await start({ queries: true });
    const names = await partitionNames();
    for (const kind of LOGGED_KINDS) {
      for (let ahead = 0; ahead <= DAYS_AHEAD; ahead++) {
        expect(names).toContain(
          partitionName(kind, addDays(dayOf(before), ahead)),
        );
      }
    }
    expect(names).toContain('message_log_default');
  });

  it('makes no query partitions ahead when the app logs no queries', async () => {
    const before = new Date();
    await start();
    const names = await partitionNames();
    expect(names).toContain(partitionName('command', dayOf(before)));
    expect(names.filter((name) => name.includes('_query_'))).toEqual([]);
  });

  it("has today's partitions before any module's init hook runs (a hook may send a command)", async () => {
    EarlyLooker.found = undefined;
    await start();
    expect(EarlyLooker.found).toBe(true);
  });

  it("writes a command logged now into its day's partition, not the default one", async () => {
    const { gateway } = await start();
    await gateway.send(new Deposit('a-1', 5), { id: 'deposit-1' });
    const rows = await client.query<{ partition: string; logged_at: Date }>(
      `SELECT c.relname AS partition, m.logged_at
         FROM "${schema}".message_log m JOIN pg_class c ON c.oid = m.tableoid
        WHERE m.id = 'deposit-1'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].partition).toBe(
      partitionName('command', dayOf(new Date(rows[0].logged_at))),
    );
  });

  it('drops command days older than 30 days, their rows with them, and keeps the recent ones', async () => {
    const { partitions } = await start();
    const now = new Date();
    await insertRow('command', 'today', now);
    await insertRow('command', 'in-two-days', later(now, 2));
    await insertRow('error', 'error-today', now);

    const report = await partitions.maintain(later(now, 31));

    const today = dayOf(now);
    expect(report.dropped).toEqual(
      expect.arrayContaining([
        partitionName('command', today),
        partitionName('error', today),
      ]),
    );
    const names = await partitionNames();
    expect(names).not.toContain(partitionName('command', today));
    expect(names).toContain(partitionName('command', addDays(today, 1)));
    expect(names).toContain(
      partitionName('command', addDays(today, 31 + DAYS_AHEAD)),
    );
    expect(Object.keys(await placeOfRows())).toEqual(['in-two-days']);
  });

  it('drops query days after two days with a retention of one day, while commands stay', async () => {
    const { partitions } = await start({ queries: true });
    const now = new Date();
    await insertRow('query', 'q-1', now);
    await insertRow('command', 'c-1', now);
    const today = dayOf(now);

    const afterOne = await partitions.maintain(later(now, 1));
    expect(afterOne.dropped).toEqual([]);
    expect(await placeOfRows()).toEqual({
      'q-1': partitionName('query', today),
      'c-1': partitionName('command', today),
    });

    const afterTwo = await partitions.maintain(later(now, 2));
    expect(afterTwo.dropped).toEqual([partitionName('query', today)]);
    expect(await placeOfRows()).toEqual({
      'c-1': partitionName('command', today),
    });
  });

  it('keeps each kind as long as retentionDays says', async () => {
    const { partitions } = await start({
      queries: true,
      retentionDays: { command: 3, query: 5 },
    });
    const now = new Date();
    const today = dayOf(now);
    const report = await partitions.maintain(later(now, 4));
    expect(report.dropped.sort()).toEqual([partitionName('command', today)]);
  });

  it('moves rows the default partition caught into the partition made for their day, and deletes only those past retention', async () => {
    const { partitions } = await start();
    const now = new Date();
    const today = dayOf(now);
    // Days with no partition: the default partition catches their rows.
    await insertRow('command', 'five-days-ago', later(now, -5));
    await insertRow('error', 'forty-days-ago', later(now, -40));
    await insertRow('command', 'in-ten-days', later(now, 10));
    await insertRow('schedule', 'in-ten-days-too', later(now, 10));
    expect(Object.values(await placeOfRows())).toEqual(
      Array(4).fill('message_log_default'),
    );

    const first = await partitions.maintain(now);
    expect(first).toMatchObject({
      created: [partitionName('command', addDays(today, -5))],
      moved: 1,
      deleted: 1,
    });
    expect(await placeOfRows()).toEqual({
      'five-days-ago': partitionName('command', addDays(today, -5)),
      // Too far ahead for a partition yet: it waits in the default.
      'in-ten-days': 'message_log_default',
      'in-ten-days-too': 'message_log_default',
    });

    const second = await partitions.maintain(later(now, 10));
    expect(second.moved).toBe(2);
    expect(await placeOfRows()).toEqual({
      'five-days-ago': partitionName('command', addDays(today, -5)),
      'in-ten-days': partitionName('command', addDays(today, 10)),
      'in-ten-days-too': partitionName('schedule', addDays(today, 10)),
    });
  });

  it('lets two maintenance runs on one schema at once both succeed, each step done once', async () => {
    const now = new Date();
    await start();
    const at = later(now, 40);
    await insertRow('command', 'caught', at);
    const options = resolveMessageLogOptions({ queries: true });
    const one = new MessageLogPartitions(
      client,
      new StoreSchema(schema),
      options,
    );
    const two = new MessageLogPartitions(
      database().otherClient(),
      new StoreSchema(schema),
      options,
    );
    const reports = await Promise.all([one.maintain(at), two.maintain(at)]);
    // Each partition was made, or dropped, by one of them; the other found it done.
    const days = (kinds: readonly string[], from: Date) =>
      kinds
        .flatMap((kind) =>
          Array.from({ length: DAYS_AHEAD + 1 }, (_, ahead) => ahead).map(
            (ahead) =>
              partitionName(
                kind as (typeof LOGGED_KINDS)[number],
                addDays(dayOf(from), ahead),
              ),
          ),
        )
        .sort();
    expect(reports.flatMap((report) => report.created).sort()).toEqual(
      days(LOGGED_KINDS, at),
    );
    expect(reports.flatMap((report) => report.dropped).sort()).toEqual(
      days(['command', 'schedule', 'error'], now),
    );
    expect(reports[0].moved + reports[1].moved).toBe(1);
    expect(await placeOfRows()).toEqual({
      caught: partitionName('command', dayOf(at)),
    });
  });

  it('starts two apps on one new schema at once', async () => {
    const shared = freshSchema('mlr');
    const before = new Date();
    await Promise.all([
      start({}, shared, database().client()),
      start({}, shared, database().otherClient()),
    ]);
    expect(await partitionNames()).toContain(
      partitionName('command', dayOf(before)),
    );
  });

  it('runs again on its own after each interval, until the app shuts down', async () => {
    await start();
    const now = new Date();
    let asked = 0;
    const periodic = new MessageLogPartitions(
      client,
      new StoreSchema(schema),
      resolveMessageLogOptions({}),
      {
        intervalMs: 5,
        // Each run a day later than the one before.
        now: () => later(now, ++asked),
      },
    );
    periodic.onApplicationBootstrap();
    await waitUntil(
      async () =>
        (await partitionNames()).includes(
          partitionName('command', addDays(dayOf(now), 2 + 3)),
        ),
      'a second periodic run',
    );
    await periodic.beforeApplicationShutdown();
    const runs = asked;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(asked).toBe(runs);
  });

  it('makes no partitions with messageLog: false', async () => {
    await start(false);
    expect(await partitionNames()).toEqual(['message_log_default']);
  });

  if (database().concurrentTransactions) {
    it('leaves a step to the next run when a long query holds the log, instead of stalling its writers', async () => {
      await start();
      const now = new Date();
      const impatient = new MessageLogPartitions(
        client,
        new StoreSchema(schema),
        resolveMessageLogOptions({}),
        { lockTimeoutMs: 50 },
      );
      const reader = database().otherClient();
      const held = await reader.transaction(async (tx) => {
        await tx.query(`SELECT count(*) FROM "${schema}".message_log`);
        return impatient.maintain(later(now, 31));
      });
      expect(held.dropped).toEqual([]);
      expect(held.postponed).toContain(
        `drop ${partitionName('command', dayOf(now))}`,
      );
      const next = await impatient.maintain(later(now, 31));
      expect(next.dropped).toContain(partitionName('command', dayOf(now)));
      expect(next.postponed).toEqual([]);
    });
  }
}
