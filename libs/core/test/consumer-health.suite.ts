import {
  Module,
  type INestApplicationContext,
  type Provider,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleHealthIndicator,
  ChronicleModule,
  Consumer,
  EventStore,
  HandleEvent,
  TrackingService,
  type HealthOptions,
  type PostgresEventStore,
  type SegmentHealth,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  Deposited,
  FAST_TRACKING,
  LenientConsumer,
  StrictConsumer,
  deposited,
  poison,
} from './tracking.fixture.js';
import { waitUntil } from './wait-until.js';

/** A handler that waits on a gate the test opens: events pile up behind it meanwhile. */
const gate = {
  entered: 0,
  open: () => undefined as void,
  opened: Promise.resolve(),
  close(): void {
    this.opened = new Promise<void>((resolve) => (this.open = resolve));
  },
};

@Consumer('gated')
class GatedConsumer {
  @HandleEvent(Deposited)
  async onDeposited(): Promise<void> {
    gate.entered++;
    await gate.opened;
  }
}

type Checked = Record<string, unknown> & { status: string };

/** Lag, staleness and held-back log as readiness sees them, on each database. */
export function consumerHealthSuite(database: () => TestDatabase): void {
  let schema: string;
  let client: SqlClient;
  const apps: INestApplicationContext[] = [];

  async function start(providers: Provider[], health: HealthOptions = {}) {
    @Module({ providers })
    class ConsumersModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: { client, schema },
          tracking: FAST_TRACKING,
          health,
        }),
        ConsumersModule,
      ],
    }).compile();
    const app = await moduleRef.init();
    apps.push(app);
    const indicator = app.get(ChronicleHealthIndicator);
    return {
      store: app.get(EventStore) as PostgresEventStore,
      tracking: app.get(TrackingService),
      indicator,
      consumers: async () =>
        (await indicator.checkConsumers()).consumers as Checked,
    };
  }

  const segment = async (
    tracking: TrackingService,
    consumer = 'gated',
  ): Promise<SegmentHealth> => (await tracking.health(consumer))[0].segments[0];

  beforeEach(() => {
    schema = freshSchema('hl');
    client = database().client();
    gate.entered = 0;
    gate.close();
    poison.handled = [];
    poison.attempts = 0;
  });

  afterEach(async () => {
    gate.open(); // a blocked batch would hold the app's shutdown
    while (apps.length > 0) await apps.pop()?.close();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('lagSeconds is the age of the oldest waiting event: it grows while the event waits, and is 0 once it is handled', async () => {
    const { store, tracking } = await start([GatedConsumer]);
    expect(await segment(tracking)).toMatchObject({ behind: 0, lagSeconds: 0 });
    await store.append('acct-1', [deposited('acct-1', 1)]);
    await waitUntil(() => gate.entered === 1, 'the handler to start');
    let first = 0;
    await waitUntil(async () => {
      first = (await segment(tracking)).lagSeconds;
      return first > 0;
    }, 'a lag in seconds');
    await waitUntil(
      async () => (await segment(tracking)).lagSeconds > first,
      'the lag to grow',
    );
    expect(await segment(tracking)).toMatchObject({
      behind: 1,
      readableBehind: 1,
      status: 'running',
    });
    gate.open();
    await waitUntil(
      async () => (await segment(tracking)).behind === 0,
      'the event handled',
    );
    expect((await segment(tracking)).lagSeconds).toBe(0);
  });

  it('readiness is down past maxLagEvents, naming the consumer, the segment and how far; up again once it catches up', async () => {
    const { store, consumers, indicator } = await start([GatedConsumer], {
      maxLagEvents: 1,
    });
    await store.append('acct-1', [
      deposited('acct-1', 1),
      deposited('acct-1', 2),
    ]);
    await waitUntil(
      async () => (await consumers()).status === 'down',
      'readiness down',
    );
    expect((await consumers()).failures).toEqual([
      {
        consumer: 'gated',
        segment: 0,
        limit: 'maxLagEvents',
        value: 2,
        max: 1,
        message:
          'Consumer "gated" segment 0 is 2 events behind (maxLagEvents 1).',
      },
    ]);
    expect(indicator.checkLiveness().liveness.status).toBe('up');
    gate.open();
    await waitUntil(
      async () => (await consumers()).status === 'up',
      'readiness up',
    );
    expect((await consumers()).failures).toBeUndefined();
  });

  it('readiness is down past maxLagSeconds while an event waits, and up once it is handled', async () => {
    const { store, consumers } = await start([GatedConsumer], {
      maxLagSeconds: 0.05,
    });
    await store.append('acct-1', [deposited('acct-1', 1)]);
    await waitUntil(
      async () => (await consumers()).status === 'down',
      'readiness down',
    );
    expect((await consumers()).failures).toEqual([
      expect.objectContaining({
        consumer: 'gated',
        segment: 0,
        limit: 'maxLagSeconds',
        max: 0.05,
      }),
    ]);
    gate.open();
    await waitUntil(
      async () => (await consumers()).status === 'up',
      'readiness up',
    );
  });

  it('readiness is down while a running segment is stale (a handler hangs while events wait), and up once its checkpoint moves', async () => {
    const { store, tracking, consumers, indicator } = await start(
      [GatedConsumer],
      { staleCheckpointMs: 100 },
    );
    const before = (await segment(tracking)).checkpointMovedAt;
    await store.append('acct-1', [deposited('acct-1', 1)]);
    await waitUntil(
      async () => (await consumers()).status === 'down',
      'readiness down',
    );
    expect((await consumers()).failures).toEqual([
      expect.objectContaining({
        consumer: 'gated',
        segment: 0,
        limit: 'staleCheckpointMs',
        max: 100,
        message: expect.stringContaining('Consumer "gated" segment 0 is stale'),
      }),
    ]);
    // Never on liveness: a restart would hang on the same handler.
    expect(indicator.checkLiveness().liveness.status).toBe('up');
    // Another instance of the app, which does not hold the segment, serves on.
    const other = await start([GatedConsumer], { staleCheckpointMs: 100 });
    expect((await segment(other.tracking)).heldHere).toBe(false);
    expect((await other.consumers()).status).toBe('up');
    gate.open();
    await waitUntil(
      async () => (await consumers()).status === 'up',
      'readiness up',
    );
    const after = await segment(tracking);
    expect(after.behind).toBe(0);
    expect(after.checkpointMovedAt.getTime()).toBeGreaterThan(before.getTime());
  });

  it('a reset moves checkpointMovedAt, as reading does', async () => {
    gate.open();
    const { store, tracking } = await start([GatedConsumer]);
    // Dates count whole milliseconds: let one pass before each move.
    const idle = () =>
      waitUntil(
        async () => (await segment(tracking)).checkpointIdleSeconds > 0.002,
        'a few ms since the last move',
      );
    const created = (await segment(tracking)).checkpointMovedAt;
    await idle();
    await store.append('acct-1', [deposited('acct-1', 1)]);
    await waitUntil(
      async () => (await segment(tracking)).behind === 0,
      'the event handled',
    );
    const read = (await segment(tracking)).checkpointMovedAt;
    expect(read.getTime()).toBeGreaterThan(created.getTime());
    await idle();
    await tracking.reset('gated', { to: 'beginning' });
    expect(
      (await segment(tracking)).checkpointMovedAt.getTime(),
    ).toBeGreaterThan(read.getTime());
  });

  it('a stopped segment is only degraded, whatever the limits', async () => {
    const { store, tracking, consumers } = await start([StrictConsumer], {
      maxLagEvents: 0,
      maxLagSeconds: 0,
      staleCheckpointMs: 1,
    });
    await store.append('acct-1', [
      deposited('acct-1', -1),
      deposited('acct-1', 2),
    ]);
    await waitUntil(async () => {
      const s = await segment(tracking, 'strict');
      return s.status === 'stopped' && s.lagSeconds > 0.01;
    }, 'the segment stopped, its events waiting');
    expect(await consumers()).toMatchObject({
      status: 'up',
      degraded: true,
      stopped: ['strict'],
      lag: { strict: 2 },
    });
    expect((await consumers()).failures).toBeUndefined();
  });

  it('counts a consumer’s dead letters', async () => {
    const { store, tracking, consumers } = await start([LenientConsumer]);
    await store.append('acct-1', [
      deposited('acct-1', -1),
      deposited('acct-1', 2),
    ]);
    await waitUntil(() => poison.handled.length === 1, 'the good event');
    const [health] = await tracking.health('lenient');
    expect(health.deadLetters).toBe(1);
    expect((await consumers()).deadLetters).toEqual({ lenient: 1 });
  });

  if (database().concurrentTransactions) {
    it('readiness is down while an open transaction holds the log back past maxHeldBackSeconds, with its age', async () => {
      const { store, consumers } = await start([GatedConsumer], {
        maxHeldBackSeconds: 0.05,
      });
      gate.open();
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      let holding: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const open = database()
        .otherClient()
        .transaction(async (tx) => {
          await tx.query('SELECT pg_current_xact_id()');
          holding();
          await released;
        });
      try {
        await held;
        await store.append('acct-1', [deposited('acct-1', 1)]);
        await waitUntil(
          async () => (await consumers()).status === 'down',
          'readiness down',
        );
        const checked = await consumers();
        expect(checked.failures).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ limit: 'maxHeldBackSeconds', max: 0.05 }),
          ]),
        );
        expect(
          (checked.heldBack as { ageSeconds: number }).ageSeconds,
        ).toBeGreaterThan(0.05);
      } finally {
        release();
        await open;
      }
      await waitUntil(
        async () => (await consumers()).status === 'up',
        'readiness up',
      );
    });
  }
}
