import { performance } from 'node:perf_hooks';
import {
  CommandOutbox,
  Consumer,
  EventStore,
  HandleEvent,
  HandleSchedule,
  Handles,
  MessageGateway,
  ProcessManager,
  ProcessManagerBase,
  ScheduleStore,
  Scheduler,
  StartedBy,
  UnitOfWork,
  deriveMessageId,
  processConsumerName,
  type ConsumerContext,
  type PostgresEventStore,
  type StoredEvent,
} from '@chronicle/core';
import { Inject } from '@nestjs/common';
import type { INestApplicationContext, Provider } from '@nestjs/common';
import {
  CancelOrder,
  Deliveries,
  FULFILMENT_HANDLERS,
  OrderPlaced,
  PaymentAuthorized,
  PaymentTimedOut,
  PaymentTimeout,
  RequestPayment,
  ShipOrder,
  StockReserved,
  fulfilmentEvents,
} from '../domain/fulfilment.js';
import { createChronicleApp } from '../support/chronicle-app.js';
import { BenchDatabase } from '../support/database.js';
import { row } from '../support/report.js';
import { median } from '../support/stats.js';
import type { Benchmark } from './benchmark.js';

const INSTANCES = 10_000;
const ROUNDS = 3;
/** `--quick`: a smoke run. */
const QUICK_INSTANCES = 1_000;
const QUICK_ROUNDS = 1;
/** Instances per contender before the rounds, not measured. */
const WARMUP = 1_000;
const AIM_RATIO = 0.8;
/** Orders per appendToStreams call while seeding a round (3 streams each). */
const SEED_CHUNK = 200;
const PAYMENT_WINDOW = '15m';

// The same order fulfilment three ways. Each contender runs in an app of its
// own, on a schema and pool of its own, with the same command handlers
// (which count what they receive), the same consumer options (defaults: one
// segment, batches of 100) and the same outbox: every command is a `send`
// row written while its event is handled and delivered by the scheduler's
// pollers through the command bus.

interface FulfilmentState {
  orderId: string;
  total: number;
  paid: boolean;
}

/** The contender under test: a process manager. */
@ProcessManager('bench-fulfilment')
class FulfilmentProcess extends ProcessManagerBase<FulfilmentState> {
  initialState(): FulfilmentState {
    return { orderId: '', total: 0, paid: false };
  }

  @StartedBy(OrderPlaced, { key: 'orderId' })
  onPlaced(event: OrderPlaced): void {
    this.state = { orderId: event.orderId, total: event.total, paid: false };
    this.send(new RequestPayment(event.orderId, event.total));
    this.deadline(
      'payment',
      PAYMENT_WINDOW,
      new PaymentTimedOut(event.orderId),
    );
  }

  @Handles(PaymentAuthorized, { key: 'orderId' })
  onPaid(): void {
    this.cancelDeadline('payment');
    this.state.paid = true;
  }

  @Handles(StockReserved, { key: 'orderId' })
  onReserved(): void {
    this.send(new ShipOrder(this.key));
    this.end();
  }

  @Handles(PaymentTimedOut, { key: 'orderId' })
  onTimedOut(): void {
    this.send(new CancelOrder(this.key));
    this.end();
  }
}

/** The hand-written state: one row per order in the consumer's own table. */
const STATE_TABLE = 'bench_fulfilment_state';

const stateTable = (schema: string) => `"${schema}".${STATE_TABLE}`;

/** What a hand-written consumer does to its state row, event by event. */
const stateSql = {
  /** Starts an order unless it exists: a row when it was started now. */
  start: (t: string) =>
    `INSERT INTO ${t} (order_id, total, paid, status) VALUES ($1::text, $2::numeric, false, 'live')
     ON CONFLICT (order_id) DO NOTHING RETURNING 1`,
  /** Marks a live order paid: a row when it was live. */
  pay: (t: string) =>
    `UPDATE ${t} SET paid = true, updated_at = now() WHERE order_id = $1::text AND status = 'live' RETURNING 1`,
  /** Ends a live order: whether it was paid, when it was live. */
  end: (t: string) =>
    `UPDATE ${t} SET status = 'ended', updated_at = now() WHERE order_id = $1::text AND status = 'live' RETURNING paid`,
  /** Ends a live unpaid order (its payment timed out): a row when it did. */
  timeOut: (t: string) =>
    `UPDATE ${t} SET status = 'ended', updated_at = now() WHERE order_id = $1::text AND status = 'live' AND NOT paid RETURNING 1`,
};

/** The schema each hand-written consumer's table is in, set before its app starts. */
const tables = { publicApi: '', inBatch: '' };

const timeoutId = (orderId: string) => `bench.payment-timeout:${orderId}`;

/**
 * The baseline the issue names: the consumer-plus-schedule a process manager
 * replaces, written with what Chronicle documents for a consumer: its state
 * row through `context.sql()` (in the batch transaction), commands through
 * `sendAndForget` (the outbox, ids derived from the event), the timeout
 * through the `Scheduler`. On PostgreSQL the last two commit on their own,
 * not with the batch (their fixed and derived ids make a re-run harmless).
 */
@Consumer('bench-fulfilment-by-hand')
class HandWrittenFulfilment {
  constructor(
    private readonly gateway: MessageGateway,
    private readonly scheduler: Scheduler,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  private get table(): string {
    return stateTable(tables.publicApi);
  }

  @HandleEvent(OrderPlaced)
  async onPlaced(
    event: OrderPlaced,
    _envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    const started = await sql.query(stateSql.start(this.table), [
      event.orderId,
      event.total,
    ]);
    if (started.length === 0) return;
    await this.gateway.sendAndForget(
      new RequestPayment(event.orderId, event.total),
    );
    await context.schedule(
      new PaymentTimeout(event.orderId),
      { delay: PAYMENT_WINDOW },
      { id: timeoutId(event.orderId) },
    );
  }

  @HandleEvent(PaymentAuthorized)
  async onPaid(
    event: PaymentAuthorized,
    _envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    const paid = await sql.query(stateSql.pay(this.table), [event.orderId]);
    if (paid.length > 0) await this.scheduler.cancel(timeoutId(event.orderId));
  }

  @HandleEvent(StockReserved)
  async onReserved(
    event: StockReserved,
    _envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    const [ended] = await sql.query<{ paid: boolean }>(
      stateSql.end(this.table),
      [event.orderId],
    );
    if (!ended) return;
    await this.gateway.sendAndForget(new ShipOrder(event.orderId));
    if (!ended.paid) await this.scheduler.cancel(timeoutId(event.orderId));
  }

  /** Runs with the schedule's removal (never due within a round). */
  @HandleSchedule(PaymentTimeout)
  async onTimeout(timeout: PaymentTimeout): Promise<void> {
    await this.unitOfWork.enlist(async (tx) => {
      const ended = await tx.query(stateSql.timeOut(this.table), [
        timeout.orderId,
      ]);
      if (ended.length > 0)
        await this.gateway.sendAndForget(new CancelOrder(timeout.orderId));
    });
  }
}

/**
 * The floor: the same consumer with every write in the batch transaction, as
 * the process manager's are: commands through `CommandOutbox.addIn` and the
 * timeout through `ScheduleStore` (Chronicle's own schedule SQL) on
 * `context.sql()`. What is left between it and the process manager is the
 * process manager's own bookkeeping.
 */
@Consumer('bench-fulfilment-in-batch')
class InBatchFulfilment {
  constructor(
    private readonly outbox: CommandOutbox,
    @Inject(ScheduleStore) private readonly schedules: ScheduleStore,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  private get table(): string {
    return stateTable(tables.inBatch);
  }

  @HandleEvent(OrderPlaced)
  async onPlaced(
    event: OrderPlaced,
    envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    const started = await sql.query(stateSql.start(this.table), [
      event.orderId,
      event.total,
    ]);
    if (started.length === 0) return;
    await this.outbox.addIn(
      sql,
      new RequestPayment(event.orderId, event.total),
    );
    await this.schedules.upsert(sql, {
      id: timeoutId(event.orderId),
      kind: 'schedule',
      type: 'bench.PaymentTimeout',
      revision: 1,
      payload: { orderId: event.orderId },
      metadata: {
        correlationId: envelope.metadata.correlationId,
        causationId: envelope.id,
      },
      due: { delayMs: 15 * 60_000 },
      // Derived, as any message sent while handling: a re-run arms the same delivery.
      deliveryId: deriveMessageId(
        envelope.id,
        'consumer:bench-fulfilment-in-batch:onPlaced',
        'bench.PaymentTimeout',
        0,
      ),
    });
  }

  @HandleEvent(PaymentAuthorized)
  async onPaid(
    event: PaymentAuthorized,
    _envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    const paid = await sql.query(stateSql.pay(this.table), [event.orderId]);
    if (paid.length > 0)
      await this.schedules.cancel(sql, timeoutId(event.orderId));
  }

  @HandleEvent(StockReserved)
  async onReserved(
    event: StockReserved,
    _envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    const [ended] = await sql.query<{ paid: boolean }>(
      stateSql.end(this.table),
      [event.orderId],
    );
    if (!ended) return;
    await this.outbox.addIn(sql, new ShipOrder(event.orderId));
    if (!ended.paid) await this.schedules.cancel(sql, timeoutId(event.orderId));
  }

  @HandleSchedule(PaymentTimeout)
  async onTimeout(timeout: PaymentTimeout): Promise<void> {
    await this.unitOfWork.enlist(async (tx) => {
      const ended = await tx.query(stateSql.timeOut(this.table), [
        timeout.orderId,
      ]);
      if (ended.length > 0)
        await this.outbox.addIn(tx, new CancelOrder(timeout.orderId));
    });
  }
}

/** One contender: its app, database and consumer. */
interface Contender {
  readonly key: 'pm' | 'publicApi' | 'inBatch';
  readonly consumer: string;
  readonly db: BenchDatabase;
  readonly schema: string;
  readonly app: INestApplicationContext;
}

/** What one round of one contender measured. */
interface Round {
  /** Instances per second until every step committed (the consumer at the head). */
  readonly steps: number;
  /** Instances per second until every command was handled. */
  readonly delivered: number;
  readonly seconds: number;
  /**
   * This process's CPU time per instance (every app in it, the idle
   * contenders' polling included): steadier than throughput on a shared machine.
   */
  readonly cpuMs: number;
}

async function startContender(
  key: Contender['key'],
  consumer: string,
  provider: Provider,
): Promise<Contender> {
  const db = new BenchDatabase();
  const schema = db.reserveSchema(`processes_${key.toLowerCase()}`);
  if (key !== 'pm') {
    // The hand-written state table, made before the consumer can run.
    await db.pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await db.pool.query(
      `CREATE TABLE ${stateTable(schema)} (
         order_id text PRIMARY KEY, total numeric NOT NULL, paid boolean NOT NULL,
         status text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    tables[key] = schema;
  }
  const app = await createChronicleApp({
    client: db.client,
    schema,
    aggregates: [],
    providers: [...FULFILMENT_HANDLERS, provider],
  });
  await db.warmPool();
  return { key, consumer, db, schema, app };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Appends the round's 3 events per order in ONE transaction, so they become
 * readable at one moment (its commit), then times the contender from there:
 * until its consumer's position reaches the last event (every step
 * committed) and until its handlers received both commands of every order.
 */
async function runRound(
  contender: Contender,
  prefix: string,
  count: number,
): Promise<Round> {
  const store = contender.app.get(EventStore) as PostgresEventStore;
  const deliveries = contender.app.get(Deliveries);
  const expected = deliveries.count + 2 * count;
  let head = 0n;
  await store.transaction(async (bound) => {
    for (let from = 0; from < count; from += SEED_CHUNK) {
      const results = await bound.appendToStreams(
        fulfilmentEvents(prefix, from, Math.min(SEED_CHUNK, count - from)),
      );
      for (const { positions } of results)
        for (const position of positions) if (position > head) head = position;
    }
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let stepsMs: number | undefined;
  while (stepsMs === undefined || deliveries.count < expected) {
    if (stepsMs === undefined && (await atHead(contender, head)))
      stepsMs = performance.now() - t0;
    else await sleep(stepsMs === undefined ? 5 : 2);
  }
  const deliveredMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await checkEnded(contender, prefix, count);
  return {
    steps: (count / stepsMs) * 1000,
    delivered: (count / deliveredMs) * 1000,
    seconds: deliveredMs / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000 / count,
  };
}

async function atHead(contender: Contender, head: bigint): Promise<boolean> {
  const { rows } = await contender.db.pool.query<{ done: boolean }>(
    `SELECT coalesce(min(position) >= $2::bigint, false) AS done
       FROM "${contender.schema}".consumer_positions WHERE consumer = $1::text`,
    [contender.consumer, head.toString()],
  );
  return rows[0].done;
}

/** Every order of the round ended, and no timeout is left armed. */
async function checkEnded(
  contender: Contender,
  prefix: string,
  count: number,
): Promise<void> {
  const s = `"${contender.schema}"`;
  const ended =
    contender.key === 'pm'
      ? `SELECT count(*) AS n FROM ${s}.process_instances WHERE name = 'bench-fulfilment' AND key LIKE $1 AND status = 'ended'`
      : `SELECT count(*) AS n FROM ${stateTable(contender.schema)} WHERE order_id LIKE $1 AND status = 'ended'`;
  const [{ n }] = (
    await contender.db.pool.query<{ n: string }>(ended, [`${prefix}-%`])
  ).rows;
  const [{ armed }] = (
    await contender.db.pool.query<{ armed: string }>(
      `SELECT count(*) AS armed FROM ${s}.schedules WHERE type IN ('bench.PaymentTimeout', 'chronicle.process.bench-fulfilment.deadline')`,
    )
  ).rows;
  if (Number(n) !== count || Number(armed) !== 0)
    throw new Error(
      `processes: ${contender.key} ended ${n} of ${count} orders and left ${armed} timeouts armed`,
    );
}

type Query = (...args: unknown[]) => unknown;

/**
 * Runs `run` while counting the statements the contender's pool sends, by
 * their text (schema names taken out, parameters aside), with the time each
 * kind took from send to reply. pg_stat_statements would say the same from
 * the server, but it needs a server restart to load.
 */
async function statementProfile(
  contender: Contender,
  run: () => Promise<unknown>,
  count: number,
): Promise<string[]> {
  const byText = new Map<string, { calls: number; ms: number }>();
  const wrapped = new Map<{ query: Query }, Query>();
  const note = (text: string, ms: number) => {
    // The round's own polling for the consumer's position is not the contender's.
    const key = text
      .replaceAll(`"${contender.schema}".`, '')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 90);
    if (key.includes('AS done FROM consumer_positions')) return;
    const entry = byText.get(key) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += ms;
    byText.set(key, entry);
  };
  const wrap = (client: { query: Query }) => {
    if (wrapped.has(client)) return;
    const query = client.query;
    wrapped.set(client, query);
    client.query = (...args: unknown[]) => {
      const first = args[0];
      const text =
        typeof first === 'string'
          ? first
          : String((first as { text?: string }).text ?? '?');
      const t0 = performance.now();
      const done = () => note(text, performance.now() - t0);
      // pg-pool's own query() passes a callback; Chronicle awaits a promise.
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (...results: unknown[]) => {
          done();
          return (callback as Query)(...results);
        };
      }
      const result = query.apply(client, args);
      if (result instanceof Promise) void result.then(done, done);
      return result;
    };
  };
  const acquired = (client: { query: Query }) => wrap(client);
  contender.db.pool.on('acquire', acquired);
  let statements = 0;
  let ms = 0;
  try {
    const t0 = performance.now();
    await run();
    const elapsed = performance.now() - t0;
    for (const entry of byText.values()) {
      statements += entry.calls;
      ms += entry.ms;
    }
    const top = [...byText.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 12)
      .map(
        ([text, e]) =>
          `    ${(e.calls / count).toFixed(2)}/order, ${((e.ms / e.calls) * 1000).toFixed(0)} us each: ${text}`,
      );
    return [
      `${contender.key}: ${(statements / count).toFixed(1)} statements per order (${(ms / count).toFixed(2)} ms of round trips per order; the round took ${(elapsed / count).toFixed(2)} ms per order); by time:`,
      ...top,
    ];
  } finally {
    contender.db.pool.off('acquire', acquired);
    for (const [client, query] of wrapped) client.query = query;
  }
}

export const processesBenchmark: Benchmark = {
  name: 'processes',
  description: `order-fulfilment instances (${INSTANCES.toLocaleString('en-US')}; --quick: ${QUICK_INSTANCES.toLocaleString('en-US')}) (3 events, 2 commands, a deadline set and cancelled each): process manager vs the hand-written consumer plus schedule`,
  async run(settings) {
    const count = settings.quick ? QUICK_INSTANCES : INSTANCES;
    const rounds = settings.quick ? QUICK_ROUNDS : ROUNDS;
    const contenders: Contender[] = [];
    try {
      contenders.push(
        await startContender(
          'pm',
          processConsumerName('bench-fulfilment'),
          FulfilmentProcess,
        ),
        await startContender(
          'publicApi',
          'bench-fulfilment-by-hand',
          HandWrittenFulfilment,
        ),
        await startContender(
          'inBatch',
          'bench-fulfilment-in-batch',
          InBatchFulfilment,
        ),
      );
      for (const contender of contenders)
        await runRound(contender, 'warm', WARMUP);
      const results = new Map<Contender['key'], Round[]>(
        contenders.map((c) => [c.key, []]),
      );
      for (let round = 0; round < rounds; round++) {
        // Rotate who goes first.
        for (let k = 0; k < contenders.length; k++) {
          const contender = contenders[(round + k) % contenders.length];
          results
            .get(contender.key)!
            .push(await runRound(contender, `r${round}`, count));
        }
      }
      // Where the time goes: one more round each, its statements counted.
      const profile: string[] = [];
      for (const contender of contenders)
        profile.push(
          ...(await statementProfile(
            contender,
            () => runRound(contender, 'profile', WARMUP),
            WARMUP,
          )),
        );
      const med = (key: Contender['key'], of: keyof Round) =>
        median(results.get(key)!.map((r) => r[of]));
      const publicApi = (of: keyof Round) => ({
        name: 'hand-written consumer: state row, sendAndForget, Scheduler',
        value: med('publicApi', of),
      });
      const inBatch = (of: keyof Round) => ({
        name: 'hand-written consumer, every write in the batch transaction',
        value: med('inBatch', of),
      });
      const ratio = (of: keyof Round, key: Contender['key']) =>
        med('pm', of) / med(key, of);
      const n = count.toLocaleString('en-US');
      const verdict = (r: number) =>
        `${r >= AIM_RATIO ? 'MET' : 'NOT MET'} (${r.toFixed(2)}x)`;
      return {
        rows: [
          row(
            `${n} instances, until every command handled`,
            'instances/s',
            med('pm', 'delivered'),
            publicApi('delivered'),
          ),
          row(
            `${n} instances, until every command handled`,
            'instances/s',
            med('pm', 'delivered'),
            inBatch('delivered'),
          ),
          row(
            `${n} instances, until every step committed`,
            'instances/s',
            med('pm', 'steps'),
            publicApi('steps'),
          ),
          row(
            `${n} instances, until every step committed`,
            'instances/s',
            med('pm', 'steps'),
            inBatch('steps'),
          ),
        ],
        notes: [
          `aim: a process manager at least ${AIM_RATIO}x the hand-written consumer plus schedule, until every command handled: ${verdict(ratio('delivered', 'publicApi'))}; against every write in the batch transaction: ${verdict(ratio('delivered', 'inBatch'))}`,
          `${rounds} round(s) per contender after a ${WARMUP.toLocaleString('en-US')}-instance warm-up, rotating who goes first; medians. Each round appends ${(3 * count).toLocaleString('en-US')} events`,
          `(placed, paid, stock reserved per order, in batches of ${SEED_CHUNK} orders) in one transaction, then times from its commit; one app, schema and pool per contender,`,
          'embedded (in-process) transport, default consumer and scheduling options; every command goes through the outbox and the scheduler to a counting handler.',
          `CPU of this process per instance (median): process manager ${med('pm', 'cpuMs').toFixed(2)} ms, ` +
            `hand-written ${med('publicApi', 'cpuMs').toFixed(2)} ms, in the batch transaction ${med('inBatch', 'cpuMs').toFixed(2)} ms; ` +
            `rounds took ${(['pm', 'publicApi', 'inBatch'] as const)
              .map(
                (k) =>
                  `${k} ${results
                    .get(k)!
                    .map((r) => r.seconds.toFixed(1))
                    .join('/')} s`,
              )
              .join(', ')}`,
          ...profile,
        ],
      };
    } finally {
      for (const contender of contenders) {
        await contender.app.close();
        await contender.db.close();
      }
    }
  },
};
