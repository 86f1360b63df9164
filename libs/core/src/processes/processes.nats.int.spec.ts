import {
  Module,
  type INestApplicationContext,
  type Provider,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  deriveMessageId,
  EventStore,
  ManualClock,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { eventually, freshNamespace, NATS_URL } from '../../test/nats.js';
import {
  card,
  ChargeCardHandler,
  flaky,
  OrderFulfilment,
  placed,
  RefundCardHandler,
  refundRequested,
  refunds,
  type FulfilmentState,
} from '../../test/processes.fixture.js';
import { FAST_TRACKING } from '../../test/tracking.fixture.js';

// App "fulfilment" runs the process manager; app "cards" (two instances)
// handles its commands. They share the store and talk over NATS.

const database = postgresDatabase();
const schema = freshSchema('pmn');
const namespace = freshNamespace();
const apps: INestApplicationContext[] = [];

async function start(
  app: string,
  instance: string,
  providers: Provider[],
  delivers = true,
): Promise<INestApplicationContext> {
  @Module({ providers })
  class Feature {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        app,
        database: { client: database.client(), schema },
        transport: { nats: { servers: NATS_URL }, namespace },
        tracking: { ...FAST_TRACKING, instanceId: instance },
        scheduling: {
          enabled: delivers,
          pollInterval: 20,
          maxAttempts: 1,
          clock: new ManualClock(new Date('2026-12-04T12:00:00Z')),
        },
      }),
      Feature,
    ],
  }).compile();
  const started = await moduleRef.init();
  apps.push(started);
  return started;
}

afterAll(async () => {
  while (apps.length > 0) await apps.pop()?.close();
  await database.client().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await database.close();
});

async function stateOf(key: string): Promise<FulfilmentState | undefined> {
  const [row] = await database
    .client()
    .query<{ state: FulfilmentState }>(
      `SELECT state FROM "${schema}".process_instances WHERE name = 'order-fulfilment' AND key = $1`,
      [key],
    );
  return row?.state;
}

describe('process managers across apps over NATS', () => {
  it('sends its commands to another app once under derived ids, and gets their failures back', async () => {
    const fulfilment = await start('fulfilment', 'fulfilment-1', [
      OrderFulfilment,
    ]);
    await start('cards', 'cards-1', [ChargeCardHandler, RefundCardHandler]);
    await start('cards', 'cards-2', [ChargeCardHandler, RefundCardHandler]);
    const store = fulfilment.get(EventStore);

    // The step fails once after sending: its re-run sends the same id.
    flaky.failOnce.add('o-1');
    const first = placed('o-1', 10);
    await store.append('order-1', [first]);
    await store.append('order-2', [placed('o-2', 20)]);
    await eventually(() => card.charged.length === 2, 'both cards charged');
    expect(card.charged).toContainEqual({
      id: deriveMessageId(
        first.id,
        'process:order-fulfilment:o-1:onPlaced',
        'pm.ChargeCard',
        0,
      ),
      orderId: 'o-1',
    });

    // The refund fails in app "cards"; the failure comes back to o-2 alone.
    await store.append('refund-2', [refundRequested('o-2')]);
    await eventually(
      async () => (await stateOf('o-2'))?.seen.length === 2,
      'the failure reached o-2',
    );
    expect((await stateOf('o-2'))?.seen).toEqual([
      'placed',
      'refund failed: no refunds for o-2',
    ]);
    expect((await stateOf('o-1'))?.seen).toEqual(['placed']);
    // One delivery per command id, whatever the retries and instances.
    expect(new Set(card.charged.map((c) => c.id)).size).toBe(2);
    expect(card.charged).toHaveLength(2);
  });

  it("hands a dead command back to its instance even when the instance's app was down when it died", async () => {
    // Only the apps of this test: none that could take the failure in its stead.
    while (apps.length > 0) await apps.pop()?.close();
    // The first fulfilment instance delivers nothing: app "cards" delivers the refund.
    const first = await start(
      'fulfilment',
      'fulfilment-2',
      [OrderFulfilment],
      false,
    );
    await start('cards', 'cards-3', [ChargeCardHandler, RefundCardHandler]);
    let release = () => {};
    refunds.gate = new Promise((resolve) => (release = resolve));
    const entered = refunds.entered;
    const store = first.get(EventStore);
    await store.append('order-3', [placed('o-3', 30)]);
    await store.append('refund-3', [refundRequested('o-3')]);
    await eventually(
      () => refunds.entered > entered,
      'the refund is being handled',
    );
    // The app that runs the process manager goes away; the refund then fails for good.
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    release();
    await eventually(async () => {
      const [row] = await database
        .client()
        .query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}".schedules WHERE type = 'pm.RefundCard' AND status = 'dead' AND payload->>'orderId' = 'o-3'`,
        );
      return row.n === 1;
    }, 'the refund is dead');
    // Back up: the failure is waiting for it, and reaches o-3.
    await start('fulfilment', 'fulfilment-3', [OrderFulfilment]);
    await eventually(
      async () => (await stateOf('o-3'))?.seen.length === 2,
      'the failure reached o-3',
    );
    expect((await stateOf('o-3'))?.seen).toEqual([
      'placed',
      'refund failed: no refunds for o-3',
    ]);
  });
});
