import {
  Injectable,
  Module,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { waitUntil } from '../../test/wait-until.js';
import {
  ChronicleModule,
  Command,
  CommandBus,
  CommandHandler,
  CommandType,
  EventStore,
  ManualClock,
  Scheduler,
  type ICommandHandler,
  type PostgresEventStore,
} from '../index.js';

@CommandType('janitor.Touch')
class Touch extends Command<string> {}

@Injectable()
@CommandHandler(Touch)
class TouchHandler implements ICommandHandler<Touch> {
  execute(): Promise<string> {
    return Promise.resolve('touched');
  }
}

const DAY = 86_400_000;

// Command records are only needed while a command may be re-sent; each app
// owns its own, and its own retention.
describe('the handled-commands cleanup', () => {
  const database = postgresDatabase();
  const apps: INestApplicationContext[] = [];
  let schema: string;
  let clock: ManualClock;
  beforeEach(() => {
    schema = freshSchema('janitor');
    clock = new ManualClock();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(() => database.close());

  async function start(app: string, retention?: string | number | false) {
    @Module({ providers: [TouchHandler] })
    class Feature {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app,
          database: { client: database.client(), schema },
          commands: retention === undefined ? {} : { retention },
          scheduling: { clock },
        }),
        Feature,
      ],
    }).compile();
    const started = await moduleRef.init();
    apps.push(started);
    return started;
  }

  const store = () => apps[0].get(EventStore) as PostgresEventStore;

  async function records(): Promise<string[]> {
    const rows = await store().client.query<{ command_id: string }>(
      `SELECT command_id FROM ${store().schema.handledCommands} ORDER BY command_id`,
    );
    return rows.map((r) => r.command_id);
  }

  /** Records of `app`, handled `ageMs` ago by the database's clock. */
  async function record(app: string, id: string, ageMs: number) {
    await store().client.query(
      `INSERT INTO ${store().schema.handledCommands} (command_id, command_type, result, app, handled_at)
       VALUES ($1, 't', '{}', $2, now() - $3::float8 * interval '1 millisecond')`,
      [id, app, ageMs],
    );
  }

  async function sweptTo(expected: string[]): Promise<void> {
    clock.advanceTimeBy('1h');
    await waitUntil(
      async () => JSON.stringify(await records()) === JSON.stringify(expected),
      `records swept to ${expected.join(', ')}`,
      20_000,
    ).catch(() => undefined);
    expect(await records()).toEqual(expected);
  }

  it('records which app handled each command', async () => {
    const orders = await start('orders');
    await orders.get(CommandBus).execute(new Touch());
    const rows = await store().client.query<{ app: string }>(
      `SELECT app FROM ${store().schema.handledCommands} WHERE command_type = 'janitor.Touch'`,
    );
    expect(rows).toEqual([{ app: 'orders' }]);
  });

  it('deletes records older than the retention, on its periodic schedule', async () => {
    await start('orders', '1d');
    await record('orders', 'old', 2 * DAY);
    await record('orders', 'new', 0);
    await sweptTo(['new']);
  });

  it('keeps records 7 days by default', async () => {
    await start('orders');
    await record('orders', 'eight-days', 8 * DAY);
    await record('orders', 'six-days', 6 * DAY);
    await sweptTo(['six-days']);
  });

  it('keeps every record with retention: false', async () => {
    await start('orders', false);
    await record('orders', 'ancient', 400 * DAY);
    clock.advanceTimeBy('2h');
    expect(
      await apps[0]
        .get(Scheduler)
        .get('chronicle.handled-commands-cleanup:orders'),
    ).toBeUndefined();
    expect(await records()).toEqual(['ancient']);
  });

  it('two apps on one store: each sweeps only its own records, with its own retention', async () => {
    await start('orders', '7d');
    await start('inventory', '1h');
    await record('orders', 'orders-2h', 2 * 3_600_000);
    await record('orders', 'orders-8d', 8 * DAY);
    await record('inventory', 'inventory-2h', 2 * 3_600_000);
    await record('inventory', 'inventory-30m', 30 * 60_000);
    await sweptTo(['inventory-30m', 'orders-2h']);
  });

  it("an app that keeps its records for ever does not cancel another app's cleanup", async () => {
    await start('orders', '1h');
    await start('inventory', false);
    expect(
      await apps[1]
        .get(Scheduler)
        .get('chronicle.handled-commands-cleanup:orders'),
    ).toBeDefined();
    await record('orders', 'orders-2h', 2 * 3_600_000);
    await record('inventory', 'inventory-2h', 2 * 3_600_000);
    await sweptTo(['inventory-2h']);
  });
});
