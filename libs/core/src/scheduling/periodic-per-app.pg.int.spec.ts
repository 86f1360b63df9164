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
  ManualClock,
  Periodic,
  Scheduler,
  type ScheduleContext,
} from '../index.js';

/** One class, used by two apps: each app's copy counts its own runs. */
@Injectable()
class Housekeeping {
  readonly runs: string[] = [];

  @Periodic({ every: '5m' })
  purge(context: ScheduleContext): void {
    this.runs.push(context.scheduleId);
  }
}

// Apps sharing one store each own their @Periodic schedules, unless an id is
// given on purpose.
describe('@Periodic schedules of apps sharing one store', () => {
  const database = postgresDatabase();
  const schema = freshSchema('perapp');
  const apps: INestApplicationContext[] = [];
  const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));

  afterAll(async () => {
    for (const app of apps) await app.close();
    await database.client().exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await database.close();
  });

  async function start(app: string): Promise<INestApplicationContext> {
    @Module({ providers: [Housekeeping] })
    class Feature {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app,
          database: { client: database.client(), schema },
          commands: { retention: false },
          scheduling: { clock, pollInterval: '1h' },
        }),
        Feature,
      ],
    }).compile();
    const started = await moduleRef.init();
    apps.push(started);
    return started;
  }

  it('two apps with the same @Periodic method each get their own schedule, and each runs it', async () => {
    const billing = await start('billing');
    const shipping = await start('shipping');
    const scheduler = billing.get(Scheduler);
    expect(await scheduler.get('billing:Housekeeping.purge')).toBeDefined();
    expect(await scheduler.get('shipping:Housekeeping.purge')).toBeDefined();

    clock.advanceTimeBy('5m');
    await waitUntil(
      () =>
        billing.get(Housekeeping).runs.length === 1 &&
        shipping.get(Housekeeping).runs.length === 1,
      'each app ran its own occurrence',
    );
    expect(billing.get(Housekeeping).runs).toEqual([
      'billing:Housekeeping.purge',
    ]);
    expect(shipping.get(Housekeeping).runs).toEqual([
      'shipping:Housekeeping.purge',
    ]);
  });
});
