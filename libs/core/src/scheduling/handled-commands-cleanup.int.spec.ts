import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import {
  ChronicleModule,
  EventStore,
  ManualClock,
  type PostgresEventStore,
} from '../index.js';

// Command records are only needed while a command may be re-sent.
describe('the handled-commands cleanup', () => {
  const database = postgresDatabase();
  let app: INestApplicationContext | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(() => database.close());

  async function start(retention?: string) {
    const clock = new ManualClock();
    @Module({})
    class Empty {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: {
            client: database.client(),
            schema: freshSchema('janitor'),
          },
          commands: { retention },
          scheduling: { clock },
        }),
        Empty,
      ],
    }).compile();
    app = await moduleRef.init();
    const store = app.get(EventStore) as PostgresEventStore;
    const records = async () =>
      (
        await store.client.query<{ command_id: string }>(
          `SELECT command_id FROM ${store.schema.handledCommands} ORDER BY command_id`,
        )
      ).map((r) => r.command_id);
    await store.client.query(
      `INSERT INTO ${store.schema.handledCommands} (command_id, command_type, result, handled_at)
       VALUES ('old', 't', '{}', now() - interval '2 days'), ('new', 't', '{}', now())`,
    );
    return { clock, records };
  }

  it('deletes records older than the retention, on its periodic schedule', async () => {
    const { clock, records } = await start('1d');
    expect(await records()).toEqual(['new', 'old']);
    clock.advanceTimeBy('1h');
    const deadline = Date.now() + 20_000;
    while ((await records()).includes('old') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await records()).toEqual(['new']);
  });

  it('keeps every record when no retention is set', async () => {
    const { clock, records } = await start(undefined);
    clock.advanceTimeBy('2h');
    // Nothing is scheduled to sweep; give a poller the time it would need anyway.
    await new Promise((r) => setTimeout(r, 200));
    expect(await records()).toEqual(['new', 'old']);
  });
});
