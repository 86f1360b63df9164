import {
  CommandBus,
  EventStore,
  type PostgresEventStore,
  type SqlClient,
} from '@chronicle/core';
import type { INestApplicationContext } from '@nestjs/common';
import { availableParallelism, loadavg } from 'node:os';
import { Account } from '../domain/account.js';
import { Deposit, DepositHandler } from '../domain/deposit.js';
import { ReserveStock, Served, STOCK_HANDLERS } from '../domain/stock.js';
import { createChronicleApp } from '../support/chronicle-app.js';
import { BenchDatabase } from '../support/database.js';
import {
  compare,
  summaryOf,
  type Contender,
  type Summary,
  type Operation,
} from '../support/measure.js';
import {
  createNatsApp,
  freshNamespace,
  NATS_URL,
} from '../support/nats-apps.js';
import { row, type Row } from '../support/report.js';
import { median, percentile } from '../support/stats.js';
import type { Benchmark, Settings } from './benchmark.js';
import {
  ACCOUNTS,
  accountIds,
  roundRobin,
  seed,
  SEED_EVENTS,
} from './commands.js';

/*
 * Issue 16's write-cost benchmark: commands with the message log on (the
 * default) against the same apps with `messageLog: false`, same run. Each
 * contender has apps (schemas, NATS namespaces) of its own; "off again" is a
 * second "off", to show how far two identical contenders differ.
 */

/** Aims of issue 16, as on / off throughput. */
const AIM_WITH_EVENTS = 0.97;
const AIM_WITHOUT_EVENTS = 0.9;
const ROUNDS = 15;
const ROUND_SECONDS = 0.5;
const IN_FLIGHT = 64;
const LOCAL_CONCURRENCY = 8;

interface Setup {
  readonly name: 'off' | 'control' | 'on';
  readonly log: boolean;
  readonly label: string;
}

const SETUPS: readonly Setup[] = [
  { name: 'off', log: false, label: 'log off' },
  { name: 'control', log: false, label: 'log off again (control)' },
  { name: 'on', log: true, label: 'log on' },
];

interface Prepared {
  readonly setup: Setup;
  readonly op: Operation;
  /** One call outside timing, then the rows the log holds for it (0 when off). */
  readonly check: () => Promise<void>;
}

async function loggedRows(client: SqlClient, schema: string): Promise<number> {
  const rows = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "${schema}".message_log`,
  );
  return Number(rows[0].n);
}

/** A setup that logs nothing (or "off" that logs) would show a false cost: the run stops. */
async function expectLogged(
  client: SqlClient,
  schema: string,
  setup: Setup,
  what: string,
): Promise<void> {
  const n = await loggedRows(client, schema);
  if (setup.log ? n === 0 : n !== 0) {
    throw new Error(
      `message-log: ${what}, "${setup.name}": ${n} rows in the message log`,
    );
  }
}

async function prepareLocal(
  db: BenchDatabase,
  apps: INestApplicationContext[],
): Promise<Prepared[]> {
  const prepared: Prepared[] = [];
  let n = 0;
  for (const setup of SETUPS) {
    const schema = db.reserveSchema(`mlog_local_${setup.name}`);
    const app = await createChronicleApp({
      client: db.client,
      schema,
      aggregates: [Account],
      providers: [DepositHandler],
      messageLog: setup.log,
    });
    apps.push(app);
    const commands = app.get(CommandBus);
    const ids = accountIds(`l${setup.name}`);
    await seed(app.get(EventStore) as PostgresEventStore, ids);
    const next = roundRobin(ids);
    prepared.push({
      setup,
      op: () => commands.execute(new Deposit(next(), 5, `d-${++n}`)),
      check: async () => {
        const version = await commands.execute(new Deposit(ids[0], 1, 'check'));
        if (version !== SEED_EVENTS + 1)
          throw new Error(`message-log: local version ${version}`);
        await expectLogged(db.client, schema, setup, 'local deposit');
      },
    });
  }
  return prepared;
}

async function prepareNats(
  db: BenchDatabase,
  apps: INestApplicationContext[],
): Promise<{ withEvents: Prepared[]; withoutEvents: Prepared[] }> {
  const withEvents: Prepared[] = [];
  const withoutEvents: Prepared[] = [];
  let n = 0;
  for (const setup of SETUPS) {
    const namespace = freshNamespace();
    const transport = { nats: { servers: NATS_URL }, namespace };
    const handlerSchema = db.reserveSchema(`mlog_handler_${setup.name}`);
    // The handler app: the Account aggregate's Deposit and the stock handlers.
    const handler = await createChronicleApp({
      client: db.client,
      schema: handlerSchema,
      aggregates: [Account],
      providers: [DepositHandler, ...STOCK_HANDLERS],
      transport,
      messageLog: setup.log,
    });
    apps.push(handler);
    const ids = accountIds(`n${setup.name}`);
    await seed(handler.get(EventStore) as PostgresEventStore, ids);
    const caller = await createNatsApp({
      app: 'bench-caller',
      namespace,
      client: db.client,
      schema: db.reserveSchema(`mlog_caller_${setup.name}`),
      messageLog: setup.log,
    });
    apps.push(caller);
    const commands = caller.get(CommandBus);
    const served = handler.get(Served);
    const next = roundRobin(ids);
    withEvents.push({
      setup,
      op: () => commands.execute(new Deposit(next(), 5, `nd-${++n}`)),
      check: async () => {
        const version = await commands.execute(new Deposit(ids[0], 1, 'check'));
        if (version !== SEED_EVENTS + 1)
          throw new Error(`message-log: NATS version ${version}`);
        await expectLogged(db.client, handlerSchema, setup, 'NATS deposit');
      },
    });
    withoutEvents.push({
      setup,
      op: () => commands.execute(new ReserveStock('SKU-1042', 3, `r-${++n}`)),
      check: async () => {
        const before = served.commands;
        await commands.execute(new ReserveStock('SKU-1042', 3, 'check'));
        if (served.commands !== before + 1)
          throw new Error('message-log: the command did not reach its handler');
        await expectLogged(db.client, handlerSchema, setup, 'NATS reserve');
      },
    });
  }
  return { withEvents, withoutEvents };
}

async function timeCase(
  name: string,
  prepared: readonly Prepared[],
  settings: Settings,
  concurrency: number,
  db: BenchDatabase,
): Promise<{
  rows: Row[];
  on: number[];
  control: number[];
  ratio: number;
  cpu: string;
}> {
  const contenders: Contender[] = prepared.map(({ setup, op }) => ({
    name: setup.name,
    op,
  }));
  const summaries = await compare(contenders, {
    ...settings,
    rounds: Math.max(settings.rounds, ROUNDS),
    roundSeconds: Math.min(settings.roundSeconds, ROUND_SECONDS),
    concurrency,
    serverCpuMs: () => db.serverCpuMs(),
  });
  const off = summaryOf(summaries, 'off');
  const rows: Row[] = [];
  const byRound = (which: 'on' | 'control') =>
    summaryOf(summaries, which).rounds.map(
      (round, i) => round.opsPerSecond / off.rounds[i].opsPerSecond,
    );
  let ratio = NaN;
  for (const { setup } of prepared) {
    if (setup.name === 'off') continue;
    const s = summaryOf(summaries, setup.name);
    const r = row(`${name}, ${setup.label}`, 'ops/s', s.opsPerSecond, {
      name: 'log off',
      value: off.opsPerSecond,
    });
    if (setup.name === 'on') ratio = r.ratio ?? NaN;
    rows.push(r);
  }
  // CPU per command, this process (both apps) + the server's backends:
  // steadier than throughput where other runs share the cores.
  const cpuOf = (s: Summary) => s.cpuMsPerOp + s.serverCpuMsPerOp;
  const cpu = (['off', 'control', 'on'] as const)
    .map((which) => {
      const s = summaryOf(summaries, which);
      return `${which} ${(cpuOf(s) * 1000).toFixed(0)} us (node ${(s.cpuMsPerOp * 1000).toFixed(0)} + server ${(s.serverCpuMsPerOp * 1000).toFixed(0)})`;
    })
    .join(', ');
  const cpuRatio = (which: 'on' | 'control') =>
    (cpuOf(off) / cpuOf(summaryOf(summaries, which))).toFixed(2);
  return {
    rows,
    on: byRound('on'),
    control: byRound('control'),
    ratio,
    cpu: `${cpu}; off/on ${cpuRatio('on')}x, off/off again ${cpuRatio('control')}x`,
  };
}

function spread(ratios: readonly number[]): string {
  return `by round median ${median(ratios).toFixed(2)}, middle half ${percentile(ratios, 25).toFixed(2)}-${percentile(ratios, 75).toFixed(2)}`;
}

export const messageLogBenchmark: Benchmark = {
  name: 'message-log',
  description:
    'what the message log costs commands: the same apps with the log on (default) vs messageLog: false, same run',
  async run(settings) {
    const loadAtStart = loadavg()[0];
    const db = new BenchDatabase();
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
          aim: AIM_WITH_EVENTS,
        },
        {
          name: `NATS load+append command, ${IN_FLIGHT} in flight`,
          prepared: nats.withEvents,
          concurrency: IN_FLIGHT,
          aim: AIM_WITH_EVENTS,
        },
        {
          name: `NATS command without events (idempotency record only), ${IN_FLIGHT} in flight`,
          prepared: nats.withoutEvents,
          concurrency: IN_FLIGHT,
          aim: AIM_WITHOUT_EVENTS,
        },
      ];
      const rows: Row[] = [];
      const aims: string[] = [];
      for (const c of cases) {
        for (const p of c.prepared) await p.check();
        const timed = await timeCase(
          c.name,
          c.prepared,
          settings,
          c.concurrency,
          db,
        );
        rows.push(...timed.rows);
        aims.push(
          `aim: ${c.name}: on/off >= ${c.aim}: ${timed.ratio >= c.aim ? 'MET' : 'NOT MET'} (${timed.ratio.toFixed(2)}; ${spread(timed.on)}); noise (off again vs off) ${spread(timed.control)}`,
          `CPU per command, ${c.name}: ${timed.cpu}`,
        );
      }
      return {
        rows,
        notes: [
          `aims (issue 16): the log costs commands that append events at most ${Math.round((1 - AIM_WITH_EVENTS) * 100)}%, other commands at most ${Math.round((1 - AIM_WITHOUT_EVENTS) * 100)}%`,
          `on: ChronicleModule's default (the log row in the append statement, with group commit); off: messageLog: false; each contender its own apps, schemas and NATS namespace; ${Math.max(settings.rounds, ROUNDS)} rounds of ${Math.min(settings.roundSeconds, ROUND_SECONDS)}s, rotating`,
          `local: ${ACCOUNTS} accounts of ${SEED_EVENTS} events per contender, round robin; NATS: a caller and a handler app in this process over ${new URL(NATS_URL).host}`,
          `${availableParallelism()} CPUs, load average ${loadAtStart.toFixed(1)} at start`,
          ...aims,
        ],
      };
    } finally {
      for (const app of apps.reverse()) await app.close();
      await db.close();
    }
  },
};
