import {
  CommandBus,
  EventStore,
  QueryBus,
  type PostgresEventStore,
} from '@chronicle/core';
import type { INestApplicationContext } from '@nestjs/common';
import { availableParallelism, loadavg } from 'node:os';
import { Registry } from 'prom-client';
import { Account } from '../domain/account.js';
import { Deposit, DepositHandler } from '../domain/deposit.js';
import {
  GetQuote,
  ReserveStock,
  Served,
  STOCK_HANDLERS,
} from '../domain/stock.js';
import { createChronicleApp } from '../support/chronicle-app.js';
import { BenchDatabase } from '../support/database.js';
import {
  compare,
  summaryOf,
  type Contender,
  type Operation,
  type Summary,
} from '../support/measure.js';
import {
  createNatsApp,
  freshNamespace,
  NATS_URL,
} from '../support/nats-apps.js';
import { row, type Row } from '../support/report.js';
import { median, percentile } from '../support/stats.js';
import { BenchTracingSdk } from '../support/tracing-sdk.js';
import type { Benchmark, Settings } from './benchmark.js';
import {
  ACCOUNTS,
  accountIds,
  roundRobin,
  seed,
  SEED_EVENTS,
} from './commands.js';

/*
 * Issue 15's benchmark: what metrics and tracing cost Chronicle's own
 * throughput. Each contender has its own app(s), so metrics are on or off per
 * app; tracing is process-wide (the global OpenTelemetry SDK), so each
 * contender registers or removes the SDK before its warm-up and its rounds.
 */

/** Aims of issue 15, as on / off throughput. */
const AIM_METRICS = 0.95;
const AIM_TRACING = 0.85;

/**
 * Rounds per contender, more than the other benchmarks' 5: the differences
 * sought are a few percent, on a machine other work shares.
 */
const ROUNDS = 21;
/** Short rounds, so that "on" and "off" run close together in time. */
const ROUND_SECONDS = 0.5;
const LOCAL_CONCURRENCY = 8;
const IN_FLIGHT = 64;
const HANDLED = 'chronicle_messages_handled_total';

/** One way of running the same apps: metrics on or off, an SDK or none. */
interface Setup {
  readonly name: 'off' | 'control' | 'metrics' | 'tracing' | 'both';
  readonly metrics: boolean;
  readonly tracing: boolean;
  /** What its rows are called. */
  readonly label: string;
}

const SETUPS: readonly Setup[] = [
  { name: 'off', metrics: false, tracing: false, label: 'off' },
  // Off again, in apps of its own: how far two identical contenders differ.
  {
    name: 'control',
    metrics: false,
    tracing: false,
    label: 'off again (control)',
  },
  { name: 'metrics', metrics: true, tracing: false, label: 'metrics on' },
  { name: 'tracing', metrics: false, tracing: true, label: 'tracing on' },
  {
    name: 'both',
    metrics: true,
    tracing: true,
    label: 'metrics and tracing on',
  },
];

/** A setup's apps, made and checked, ready to time. */
interface Prepared {
  readonly setup: Setup;
  /** The registry read for the check: the app that handles; none when metrics are off. */
  readonly registry?: Registry;
  readonly op: Operation;
  /** Calls once outside timing, throwing when the outcome is wrong. */
  readonly check: () => Promise<void>;
}

/** What the checks found: spans per call, for the notes. */
interface CheckFindings {
  readonly spansPerCall: Map<Setup['name'], number>;
  readonly handled: Map<Setup['name'], number>;
}

async function handledTotal(registry: Registry): Promise<number> {
  const metric = registry.getSingleMetric(HANDLED);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** A contender that records nothing would show no cost at all: the run stops instead. */
function expectRecorded(ok: boolean, problem: string): void {
  if (!ok) throw new Error(`observability: ${problem}`);
}

function before(setup: Setup, sdk: BenchTracingSdk): () => void {
  return setup.tracing ? () => sdk.register() : () => BenchTracingSdk.remove();
}

/**
 * Runs each setup's check call under its own global state, then proves the
 * setup records what it says: its registry counts handled messages, its SDK
 * exports spans, and a setup without the SDK makes none.
 */
async function checkAll(
  caseName: string,
  prepared: readonly Prepared[],
  sdk: BenchTracingSdk,
): Promise<CheckFindings> {
  const findings: CheckFindings = {
    spansPerCall: new Map(),
    handled: new Map(),
  };
  for (const { setup, registry, check } of prepared) {
    before(setup, sdk)();
    const spansBefore = await sdk.spansExported();
    await check();
    const spans = (await sdk.spansExported()) - spansBefore;
    findings.spansPerCall.set(setup.name, spans);
    if (setup.tracing) {
      expectRecorded(
        spans > 0,
        `${caseName}: "${setup.name}" made no spans with the SDK registered`,
      );
    } else if (spans > 0) {
      throw new Error(
        `observability: ${caseName}: "${setup.name}" made ${spans} spans with no SDK registered`,
      );
    }
    if (registry) {
      const handled = await handledTotal(registry);
      findings.handled.set(setup.name, handled);
      expectRecorded(
        handled > 0,
        `${caseName}: "${setup.name}" counted nothing in ${HANDLED}`,
      );
    }
  }
  BenchTracingSdk.remove();
  return findings;
}

/**
 * On against off, 1.0 meaning "costs nothing": of the medians (the table's),
 * and round by round.
 */
interface Ratio {
  readonly ofMedians: number;
  /** Round i of "on" over round i of "off", run next to each other. */
  readonly byRound: readonly number[];
}

/** Throughput on / off, and CPU per op off / on. */
interface Ratios {
  readonly throughput: Ratio;
  readonly cpu: Ratio;
}

/** Times the setups against each other; one row per setup other than "off". */
async function timeCase(
  caseName: string,
  prepared: readonly Prepared[],
  sdk: BenchTracingSdk,
  settings: Settings,
  concurrency: number,
): Promise<{ rows: Row[]; ratios: Map<Setup['name'], Ratios> }> {
  const contenders: Contender[] = prepared.map(({ setup, op }) => ({
    name: setup.name,
    op,
    before: before(setup, sdk),
  }));
  const summaries = await compare(contenders, {
    ...settings,
    rounds: Math.max(settings.rounds, ROUNDS),
    roundSeconds: Math.min(settings.roundSeconds, ROUND_SECONDS),
    concurrency,
  });
  BenchTracingSdk.remove();
  const off = summaryOf(summaries, 'off');
  const throughputRows: Row[] = [];
  const cpuRows: Row[] = [];
  const ratios = new Map<Setup['name'], Ratios>();
  for (const { setup } of prepared) {
    if (setup.name === 'off') continue;
    const on: Summary = summaryOf(summaries, setup.name);
    const throughput = row(
      `${caseName}, ${setup.label}`,
      'ops/s',
      on.opsPerSecond,
      { name: 'off', value: off.opsPerSecond },
    );
    const cpu = row(
      `${caseName}, ${setup.label}, CPU per op`,
      'ms',
      on.cpuMsPerOp,
      { name: 'off', value: off.cpuMsPerOp },
    );
    throughputRows.push(throughput);
    cpuRows.push(cpu);
    ratios.set(setup.name, {
      throughput: {
        ofMedians: throughput.ratio ?? NaN,
        byRound: on.rounds.map(
          (round, i) => round.opsPerSecond / off.rounds[i].opsPerSecond,
        ),
      },
      cpu: {
        ofMedians: cpu.ratio ?? NaN,
        byRound: on.rounds.map(
          (round, i) => off.rounds[i].cpuMsPerOp / round.cpuMsPerOp,
        ),
      },
    });
  }
  return { rows: [...throughputRows, ...cpuRows], ratios };
}

function metricsOption(registry: Registry | undefined) {
  return registry ? { registry } : undefined;
}

/** The commands bench's load+append Deposit, in process, one app per setup. */
async function prepareLocal(
  db: BenchDatabase,
  apps: INestApplicationContext[],
): Promise<Prepared[]> {
  const prepared: Prepared[] = [];
  let n = 0;
  for (const setup of SETUPS) {
    const registry = setup.metrics ? new Registry() : undefined;
    const app = await createChronicleApp({
      client: db.client,
      schema: db.reserveSchema(`obs_commands_${setup.name}`),
      aggregates: [Account],
      providers: [DepositHandler],
      metrics: metricsOption(registry),
    });
    apps.push(app);
    const commands = app.get(CommandBus);
    const ids = accountIds(setup.name);
    await seed(app.get(EventStore) as PostgresEventStore, ids);
    const next = roundRobin(ids);
    prepared.push({
      setup,
      registry,
      op: () => commands.execute(new Deposit(next(), 5, `d-${++n}`)),
      check: async () => {
        const version = await commands.execute(new Deposit(ids[0], 1, 'check'));
        if (version !== SEED_EVENTS + 1) {
          throw new Error(
            `observability: "${setup.name}" version after one deposit: ${version}`,
          );
        }
      },
    });
  }
  return prepared;
}

/** The transport bench's pair of apps over NATS, one pair (and namespace) per setup. */
async function prepareNats(
  db: BenchDatabase,
  apps: INestApplicationContext[],
): Promise<{ commands: Prepared[]; queries: Prepared[] }> {
  const commands: Prepared[] = [];
  const queries: Prepared[] = [];
  let n = 0;
  for (const setup of SETUPS) {
    const namespace = freshNamespace();
    // Each app its own registry, as each process of a deployment has.
    const handlerRegistry = setup.metrics ? new Registry() : undefined;
    const handler = await createNatsApp({
      app: 'bench-handler',
      namespace,
      client: db.client,
      schema: db.reserveSchema(`obs_handler_${setup.name}`),
      providers: STOCK_HANDLERS,
      metrics: metricsOption(handlerRegistry),
    });
    apps.push(handler);
    const caller = await createNatsApp({
      app: 'bench-caller',
      namespace,
      client: db.client,
      schema: db.reserveSchema(`obs_caller_${setup.name}`),
      metrics: metricsOption(setup.metrics ? new Registry() : undefined),
    });
    apps.push(caller);
    const served = handler.get(Served);
    const commandBus = caller.get(CommandBus);
    const queryBus = caller.get(QueryBus);
    commands.push({
      setup,
      registry: handlerRegistry,
      op: () => commandBus.execute(new ReserveStock('SKU-1042', 3, `r-${++n}`)),
      check: async () => {
        const before = served.commands;
        const reservation = await commandBus.execute(
          new ReserveStock('SKU-1042', 3, `check-${setup.name}`),
        );
        if (!reservation.reserved || served.commands !== before + 1) {
          throw new Error(
            `observability: "${setup.name}" command did not reach its handler: ${JSON.stringify(reservation)}`,
          );
        }
      },
    });
    queries.push({
      setup,
      registry: handlerRegistry,
      op: () => queryBus.execute(new GetQuote('SKU-1042', 3)),
      check: async () => {
        const before = served.queries;
        await queryBus.execute(new GetQuote('SKU-1042', 3));
        if (served.queries !== before + 1) {
          throw new Error(
            `observability: "${setup.name}" query did not reach its handler`,
          );
        }
      },
    });
  }
  return { commands, queries };
}

function spread(ratio: Ratio | undefined): string {
  if (!ratio) return 'not measured';
  const r = ratio.byRound;
  return `${ratio.ofMedians.toFixed(2)}; by round median ${median(r).toFixed(2)}, middle half ${percentile(r, 25).toFixed(2)}-${percentile(r, 75).toFixed(2)}`;
}

function verdict(ratio: Ratio | undefined, aim: number): string {
  const met = ratio !== undefined && ratio.ofMedians >= aim;
  return `${met ? 'MET' : 'NOT MET'} (${spread(ratio)})`;
}

function spansText(findings: CheckFindings): string {
  const spans = findings.spansPerCall;
  return `${spans.get('tracing') ?? 0} spans per call with tracing on (${spans.get('both') ?? 0} with both)`;
}

export const observabilityBenchmark: Benchmark = {
  name: 'observability',
  description: `what Prometheus metrics and OpenTelemetry tracing (sampled at 100%) cost: Chronicle with each on vs off, same run`,
  async run(settings) {
    const loadAtStart = loadavg()[0];
    const db = new BenchDatabase();
    const sdk = new BenchTracingSdk();
    const apps: INestApplicationContext[] = [];
    try {
      const local = await prepareLocal(db, apps);
      const nats = await prepareNats(db, apps);
      await db.warmPool();

      const cases = [
        {
          name: `local load+append command, ${LOCAL_CONCURRENCY} concurrent`,
          prepared: local,
          concurrency: LOCAL_CONCURRENCY,
        },
        {
          name: `NATS command + idempotency record, ${IN_FLIGHT} in flight`,
          prepared: nats.commands,
          concurrency: IN_FLIGHT,
        },
        {
          name: `NATS query, ${IN_FLIGHT} in flight`,
          prepared: nats.queries,
          concurrency: IN_FLIGHT,
        },
      ];
      const rows: Row[] = [];
      const aims: string[] = [];
      const spans: string[] = [];
      for (const c of cases) {
        const findings = await checkAll(c.name, c.prepared, sdk);
        spans.push(`${c.name}: ${spansText(findings)}`);
        const timed = await timeCase(
          c.name,
          c.prepared,
          sdk,
          settings,
          c.concurrency,
        );
        rows.push(...timed.rows);
        const aim = (what: 'throughput' | 'cpu', label: string): string =>
          `${label}: metrics ${verdict(timed.ratios.get('metrics')?.[what], AIM_METRICS)}; ` +
          `tracing ${verdict(timed.ratios.get('tracing')?.[what], AIM_TRACING)}; ` +
          `noise (off again vs off) ${spread(timed.ratios.get('control')?.[what])}`;
        aims.push(
          `aim: ${c.name}, ${aim('throughput', 'throughput on/off')}`,
          `  same, ${aim('cpu', 'CPU per op off/on')}`,
        );
      }
      return {
        rows,
        notes: [
          `aims (issue 15): metrics cost at most ${Math.round((1 - AIM_METRICS) * 100)}% (ratio >= ${AIM_METRICS}), tracing sampled at 100% at most ${Math.round((1 - AIM_TRACING) * 100)}% (ratio >= ${AIM_TRACING})`,
          `ratio = median throughput on / median throughput off over ${Math.max(settings.rounds, ROUNDS)} rounds of ${Math.min(settings.roundSeconds, ROUND_SECONDS)}s each, rotating; "CPU per op" is this process's CPU time (both apps, every thread) per operation, off / on, steadier than throughput on a shared machine; each contender has its own apps (schema, NATS namespace), so "off" is the same code with no metrics option and no SDK, and "off again" is a second "off" in apps of its own, to show the noise`,
          `metrics: forRoot({ metrics: { registry } }), a prom-client Registry per app, never scraped during the run`,
          `tracing: @opentelemetry/sdk-trace TracerProvider with AlwaysOnSampler and the default BatchSpanProcessor over an exporter that drops spans, AsyncLocalStorageContextManager, W3CTraceContextPropagator; registered globally before each round of a tracing contender and removed (trace/context/propagation.disable()) before the others'`,
          ...spans,
          `local: ${ACCOUNTS} accounts of ${SEED_EVENTS} events per contender, round robin; NATS: caller and handler apps in this process over ${new URL(NATS_URL).host}, the handler SELECTs and INSERTs each command's idempotency record`,
          `${availableParallelism()} CPUs, load average ${loadAtStart.toFixed(1)} at start: a shared machine, so repeat the run before trusting a few percent`,
          ...aims,
        ],
      };
    } finally {
      for (const app of apps.reverse()) await app.close();
      await sdk.shutdown();
      await db.close();
    }
  },
};
