import {
  aggregateRepositoryToken,
  CommandBus,
  EventStore,
  generateSigningKey,
  isSealed,
  PersonalDataCipher,
  SIGNATURE_HEADER,
  type AggregateRepository,
  type KeyStore,
  type PostgresEventStore,
  type SigningOptions,
  type SigningScheme,
} from '@chronicle/core';
import { connect } from '@nats-io/transport-node';
import type { INestApplicationContext } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { Account } from '../domain/account.js';
import {
  customerEvents,
  customerName,
  customerStream,
  PersonalCustomer,
  PlainCustomer,
  type CustomerKind,
} from '../domain/customer.js';
import { Deposit, DepositHandler } from '../domain/deposit.js';
import {
  ReserveStock,
  reservationFor,
  Served,
  STOCK_HANDLERS,
} from '../domain/stock.js';
import { createChronicleApp } from '../support/chronicle-app.js';
import { BenchDatabase } from '../support/database.js';
import {
  compare,
  summaryOf,
  type Contender,
  type Summary,
} from '../support/measure.js';
import {
  createNatsApp,
  freshNamespace,
  NATS_URL,
} from '../support/nats-apps.js';
import { row, type Row } from '../support/report.js';
import type { Benchmark, Settings } from './benchmark.js';
import { accountIds, roundRobin, seed, SEED_EVENTS } from './commands.js';

/*
 * Issue 19's benchmark: what signed messages and personal data cost. Here the
 * "Chronicle" figure is the secured variant and the baseline is the same
 * Chronicle without the feature, measured in the same run, so the ratio is
 * directly "how much of the throughput is left with the feature on".
 */

/** Issue 19: signing costs a command over NATS at most 15%. */
const AIM_SIGNING = 0.85;
/** Issue 19: personal data costs an append or a load at most 20%. */
const AIM_PERSONAL = 0.8;

/** More rounds than the default 5, shorter: the differences sought are 15-20% on a shared machine. */
const ROUNDS = 11;
const ROUND_SECONDS = 0.5;
const IN_FLIGHT = 64;
const CONCURRENT_LOADS = 8;
/** Data subjects: enough that the key cache works as it does in use, not on one hot key. */
const CUSTOMERS = 1000;
const EVENTS_PER_CUSTOMER = 100;

const SIGNED = 'signed, pairwise MACs (v2, default)';
const SIGNED_V1 = "signed, ed25519 (v1, scheme: 'signatures')";
const UNSIGNED = 'unsigned (same apps, no signing)';
const PERSONAL = 'personal data';
const PLAIN = 'same shapes, no @PersonalData';
const COLD = 'personal data, cold key cache';

/** Which parts of this benchmark run. */
interface Parts {
  readonly signing: boolean;
  readonly personal: boolean;
  readonly loads: boolean;
}

/**
 * `BENCH_SECURITY=signing`, `personal` or `personal-append` runs that part
 * alone (to profile or compare one change); unset, everything runs.
 */
function partsToRun(only = process.env.BENCH_SECURITY): Parts {
  if (only && !['signing', 'personal', 'personal-append'].includes(only)) {
    throw new Error(
      `BENCH_SECURITY must be signing, personal or personal-append, got '${only}'`,
    );
  }
  return {
    signing: !only || only === 'signing',
    personal: !only || only.startsWith('personal'),
    loads: only !== 'personal-append',
  };
}

const aimText = (aim: number) => `aim >= ${aim.toFixed(2)}x`;
const verdict = (ratios: readonly number[], aim: number) =>
  `${ratios.every((r) => r >= aim) ? 'MET' : 'NOT MET'} (${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')})`;

function timing(settings: Settings): Settings {
  return settings.quick
    ? { ...settings, rounds: 3, roundSeconds: 0.25, warmupSeconds: 0.25 }
    : { ...settings, rounds: ROUNDS, roundSeconds: ROUND_SECONDS };
}

/** CPU per op of the baseline over the secured variant's: steadier than throughput on a shared machine. */
function cpuRatio(
  summaries: ReadonlyMap<string, Summary>,
  secured: string,
  baseline: string,
): number {
  return (
    summaryOf(summaries, baseline).cpuMsPerOp /
    summaryOf(summaries, secured).cpuMsPerOp
  );
}

/** A caller app and a handler app on a namespace of their own, signing or not. */
interface Pair {
  readonly namespace: string;
  readonly handler: INestApplicationContext;
  readonly commands: CommandBus;
}

async function startPair(
  db: BenchDatabase,
  apps: INestApplicationContext[],
  options: {
    scheme: SigningScheme | undefined;
    trivial: boolean;
    label: string;
  },
): Promise<Pair> {
  const namespace = freshNamespace();
  // Keys as `npx chronicle keygen` makes them; each app trusts itself and the other.
  const handlerKey = generateSigningKey();
  const callerKey = generateSigningKey();
  const trustedKeys = {
    'bench-handler': handlerKey.publicKey,
    'bench-caller': callerKey.publicKey,
  };
  const signing = (privateKey: string): SigningOptions | undefined =>
    options.scheme
      ? { privateKey, trustedKeys, scheme: options.scheme }
      : undefined;
  // The trivial pair does no database work around the command (no idempotency
  // record, no message log), so nothing hides what signing costs; the other
  // runs with Chronicle's defaults.
  const quiet = options.trivial
    ? { commands: { deduplicate: false }, messageLog: false }
    : {};
  const handlerSigning = signing(handlerKey.privateKey);
  const handler = await createChronicleApp({
    app: 'bench-handler',
    client: db.client,
    schema: db.reserveSchema(`security_handler_${options.label}`),
    aggregates: [Account],
    providers: [DepositHandler, ...STOCK_HANDLERS],
    transport: {
      nats: { servers: NATS_URL, name: 'bench-handler' },
      namespace,
      ...(handlerSigning ? { signing: handlerSigning } : {}),
    },
    ...quiet,
  });
  apps.push(handler);
  const caller = await createNatsApp({
    app: 'bench-caller',
    namespace,
    client: db.client,
    schema: db.reserveSchema(`security_caller_${options.label}`),
    signing: signing(callerKey.privateKey),
    ...(options.trivial ? { messageLog: false } : {}),
  });
  apps.push(caller);
  return { namespace, handler, commands: caller.get(CommandBus) };
}

/** How many commands crossed the namespace during `send`, and the signature versions they carried. */
async function watchCommands(
  namespace: string,
  send: () => Promise<unknown>,
): Promise<{ commands: number; signed: string[]; result: unknown }> {
  const watcher = await connect({
    servers: NATS_URL,
    name: 'bench-security-watcher',
  });
  try {
    let commands = 0;
    const signed: string[] = [];
    watcher.subscribe(`chronicle.${namespace}.command.>`, {
      callback: (error, msg) => {
        if (error) return;
        commands++;
        const header = msg.headers?.get(SIGNATURE_HEADER);
        if (header) signed.push(header.slice(0, 2));
      },
    });
    await watcher.flush();
    const result = await send();
    await watcher.flush();
    return { commands, signed, result };
  } finally {
    await watcher.drain();
  }
}

/** Counts the key store's lookups, to tell whether keys came from the cache while timed. */
function countLookups(keys: KeyStore): { count: number } {
  const counter = { count: 0 };
  const bySubjects = keys.findBySubjects.bind(keys);
  const byIds = keys.findByIds.bind(keys);
  keys.findBySubjects = (...args) => {
    counter.count++;
    return bySubjects(...args);
  };
  keys.findByIds = (...args) => {
    counter.count++;
    return byIds(...args);
  };
  return counter;
}

async function signedCommands(
  db: BenchDatabase,
  apps: INestApplicationContext[],
  settings: Settings,
  rows: Row[],
  notes: string[],
): Promise<void> {
  const start = (
    scheme: SigningScheme | undefined,
    trivial: boolean,
    label: string,
  ) => startPair(db, apps, { scheme, trivial, label });
  const trivialSigned = await start('pairwise', true, 'trivial_signed');
  const trivialV1 = await start('signatures', true, 'trivial_v1');
  const trivialPlain = await start(undefined, true, 'trivial_plain');
  const usualSigned = await start('pairwise', false, 'usual_signed');
  const usualV1 = await start('signatures', false, 'usual_v1');
  const usualPlain = await start(undefined, false, 'usual_plain');
  const signedIds = accountIds('signed');
  const v1Ids = accountIds('v1');
  const plainIds = accountIds('plain');
  await seed(
    usualSigned.handler.get(EventStore) as PostgresEventStore,
    signedIds,
  );
  await seed(usualV1.handler.get(EventStore) as PostgresEventStore, v1Ids);
  await seed(
    usualPlain.handler.get(EventStore) as PostgresEventStore,
    plainIds,
  );
  await db.warmPool();

  // Before timing: each pair's handler answers, and the signed pairs' commands
  // carry a signature of their scheme on the wire while the others' do not.
  let n = 0;
  const reserve = (pair: Pair) => () =>
    pair.commands.execute(new ReserveStock('SKU-1042', 3, `r-${++n}`));
  const nextSigned = roundRobin(signedIds);
  const nextV1 = roundRobin(v1Ids);
  const nextPlain = roundRobin(plainIds);
  const deposit = (pair: Pair, next: () => string) => () =>
    pair.commands.execute(new Deposit(next(), 5, `d-${++n}`));
  const checks = [
    { pair: trivialSigned, version: 'v2', send: reserve(trivialSigned) },
    { pair: trivialV1, version: 'v1', send: reserve(trivialV1) },
    { pair: trivialPlain, version: undefined, send: reserve(trivialPlain) },
    {
      pair: usualSigned,
      version: 'v2',
      send: deposit(usualSigned, nextSigned),
    },
    { pair: usualV1, version: 'v1', send: deposit(usualV1, nextV1) },
    {
      pair: usualPlain,
      version: undefined,
      send: deposit(usualPlain, nextPlain),
    },
  ];
  for (const [i, check] of checks.entries()) {
    const seen = await watchCommands(check.pair.namespace, check.send);
    const expected =
      i < 3
        ? reservationFor({
            sku: 'SKU-1042',
            quantity: 3,
            reservationId: `r-${n}`,
          })
        : SEED_EVENTS + 1;
    if (
      JSON.stringify(seen.result) !== JSON.stringify(expected) ||
      seen.commands !== 1 ||
      seen.signed.join() !== (check.version ?? '')
    ) {
      throw new Error(
        `security: pair ${i} (${check.version ?? UNSIGNED}) did not do the work before timing: ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`,
      );
    }
  }
  if (
    trivialSigned.handler.get(Served).commands !== 1 ||
    trivialV1.handler.get(Served).commands !== 1 ||
    trivialPlain.handler.get(Served).commands !== 1
  ) {
    throw new Error('security: the trivial handlers did not run once each');
  }

  const cases = [
    {
      label: 'command over NATS, trivial handler (no db work)',
      signed: reserve(trivialSigned),
      v1: reserve(trivialV1),
      plain: reserve(trivialPlain),
    },
    {
      label: 'command over NATS, load+append handler (defaults)',
      signed: deposit(usualSigned, nextSigned),
      v1: deposit(usualV1, nextV1),
      plain: deposit(usualPlain, nextPlain),
    },
  ];
  for (const c of cases) {
    const contenders: Contender[] = [
      { name: SIGNED, op: c.signed },
      { name: SIGNED_V1, op: c.v1 },
      { name: UNSIGNED, op: c.plain },
    ];
    const ratios = new Map<string, number[]>([
      [SIGNED, []],
      [SIGNED_V1, []],
    ]);
    const cpu = new Map<string, string[]>([
      [SIGNED, []],
      [SIGNED_V1, []],
    ]);
    for (const concurrency of [1, IN_FLIGHT]) {
      const summaries = await compare(contenders, {
        ...timing(settings),
        concurrency,
      });
      const plain = summaryOf(summaries, UNSIGNED);
      const when = concurrency === 1 ? 'sequential' : `${IN_FLIGHT} in flight`;
      for (const [name, scheme] of [
        [SIGNED, 'v2'],
        [SIGNED_V1, 'v1'],
      ] as const) {
        const signed = summaryOf(summaries, name);
        const throughput = row(
          `${c.label}, ${scheme}, ${when} (${aimText(AIM_SIGNING)})`,
          'ops/s',
          signed.opsPerSecond,
          { name: UNSIGNED, value: plain.opsPerSecond },
        );
        rows.push(throughput);
        ratios.get(name)?.push(throughput.ratio ?? NaN);
        cpu
          .get(name)
          ?.push(
            `${when} ${cpuRatio(summaries, name, UNSIGNED).toFixed(2)}x (${signed.cpuMsPerOp.toFixed(3)} vs ${plain.cpuMsPerOp.toFixed(3)} ms)`,
          );
        if (concurrency === 1) {
          rows.push(
            row(`${c.label}, ${scheme}, sequential, p50`, 'ms', signed.p50Ms, {
              name: UNSIGNED,
              value: plain.p50Ms,
            }),
          );
        }
      }
    }
    for (const name of [SIGNED, SIGNED_V1])
      notes.push(
        `aim (issue 19): ${c.label}, ${name} >= ${AIM_SIGNING}x unsigned: ${verdict(ratios.get(name) ?? [], AIM_SIGNING)}; CPU per op unsigned/signed: ${(cpu.get(name) ?? []).join(', ')}`,
      );
  }
  notes.push(
    `signing: three pairs of Nest apps ('bench-caller' calls 'bench-handler') per case on ${new URL(NATS_URL).host}, each pair in a namespace of its own: one with transport.signing as by default (pairwise MACs, v2), one with scheme: 'signatures' (ed25519, v1), both with keys from generateSigningKey() and each app trusting both, one without signing; checked on the wire before timing (a watcher saw the signed pairs' commands carry ${SIGNATURE_HEADER} of their version, the others' none); the trivial case's apps run with deduplicate: false and messageLog: false, the load+append case's with Chronicle's defaults (idempotency record, message log)`,
  );
}

async function personalData(
  db: BenchDatabase,
  apps: INestApplicationContext[],
  settings: Settings,
  rows: Row[],
  notes: string[],
  parts: Parts,
): Promise<void> {
  const customers = settings.quick ? 100 : CUSTOMERS;
  const schema = db.reserveSchema('security_personal');
  // With a master key, as the guide recommends: keys are stored wrapped.
  const masterKey = randomBytes(32).toString('base64');
  const app = await createChronicleApp({
    app: 'bench-personal',
    client: db.client,
    schema,
    aggregates: [PersonalCustomer, PlainCustomer],
    // Every load must replay the stream: the cache would answer from memory.
    aggregatesOptions: { cache: false },
    personalData: { masterKey },
  });
  apps.push(app);
  // The same store read by an app that caches no key: every load fetches and unwraps its key.
  const coldApp = await createChronicleApp({
    app: 'bench-personal-cold',
    client: db.client,
    schema,
    aggregates: [PersonalCustomer, PlainCustomer],
    aggregatesOptions: { cache: false },
    personalData: { masterKey, cacheSize: 0 },
  });
  apps.push(coldApp);
  const store = app.get(EventStore) as PostgresEventStore;
  const personal = app.get<AggregateRepository<PersonalCustomer>>(
    aggregateRepositoryToken(PersonalCustomer),
  );
  const plain = app.get<AggregateRepository<PlainCustomer>>(
    aggregateRepositoryToken(PlainCustomer),
  );
  const cold = coldApp.get<AggregateRepository<PersonalCustomer>>(
    aggregateRepositoryToken(PersonalCustomer),
  );

  const ids = Array.from({ length: customers }, (_, i) => `c-${i}`);
  const seedKind = async (kind: CustomerKind) => {
    for (let from = 0; from < ids.length; from += 10) {
      await store.appendToStreams(
        ids.slice(from, from + 10).map((id) => ({
          streamId: customerStream(kind, id),
          events: customerEvents(kind, id, 0, EVENTS_PER_CUSTOMER),
          expectedVersion: 'noStream',
        })),
      );
    }
  };
  await seedKind('personal');
  await seedKind('plain');
  await db.warmPool();

  // Before timing: personal fields are stored sealed and read back in clear;
  // the plain twins are stored as given; all three loads fold the same state.
  const storedName = async (kind: CustomerKind, id: string) =>
    (
      await db.pool.query<{ name: unknown }>(
        `SELECT payload->'name' AS name FROM ${store.schema.events} WHERE stream_id = $1::text AND stream_version = 1`,
        [customerStream(kind, id)],
      )
    ).rows[0]?.name;
  const probe = ids[ids.length - 1];
  const loaded = [
    await personal.load(probe),
    await plain.load(probe),
    await cold.load(probe),
  ];
  if (
    !isSealed(await storedName('personal', probe)) ||
    (await storedName('plain', probe)) !== customerName(probe) ||
    loaded.some(
      (c) =>
        c.name !== customerName(probe) ||
        c.address !== `${EVENTS_PER_CUSTOMER - 1} Harbour Street` ||
        c.version !== EVENTS_PER_CUSTOMER,
    )
  ) {
    throw new Error(
      `security: personal data is not sealed, or does not read back, before timing: ${JSON.stringify(loaded.map((c) => ({ name: c.name, address: c.address, version: c.version })))}`,
    );
  }

  // Appends: one registration of one of the customers to a new stream each, group commit on.
  let appended = 0;
  const append = (kind: CustomerKind) => () => {
    const id = ids[++appended % ids.length];
    return store.append(
      customerStream(kind, `${id}-a${appended}`),
      customerEvents(kind, id, 0, 1),
      { expectedVersion: 'noStream' },
    );
  };
  const appendContenders: Contender[] = [
    { name: PERSONAL, op: append('personal') },
    { name: PLAIN, op: append('plain') },
  ];
  const keys = countLookups(app.get(PersonalDataCipher).keys);
  const coldKeys = countLookups(coldApp.get(PersonalDataCipher).keys);
  const appendRatios: number[] = [];
  const cpu: string[] = [];
  let warmLookups = 0;
  for (const concurrency of [1, IN_FLIGHT]) {
    const before = keys.count;
    const summaries = await compare(appendContenders, {
      ...timing(settings),
      concurrency,
    });
    warmLookups += keys.count - before;
    const when = concurrency === 1 ? 'sequential' : `${IN_FLIGHT} concurrent`;
    const r = row(
      `append 1 event with personal data, ${when} (${aimText(AIM_PERSONAL)})`,
      'ops/s',
      summaryOf(summaries, PERSONAL).opsPerSecond,
      { name: PLAIN, value: summaryOf(summaries, PLAIN).opsPerSecond },
    );
    rows.push(r);
    appendRatios.push(r.ratio ?? NaN);
    // In microseconds too: the difference is what sealing adds per append.
    const us = (name: string) =>
      (summaryOf(summaries, name).cpuMsPerOp * 1000).toFixed(1);
    cpu.push(
      `append ${when} ${cpuRatio(summaries, PERSONAL, PLAIN).toFixed(2)}x (${us(PERSONAL)} vs ${us(PLAIN)} us)`,
    );
  }

  if (!parts.loads) {
    notes.push(
      `aim (issue 19): append with personal data >= ${AIM_PERSONAL}x without: ${verdict(appendRatios, AIM_PERSONAL)}`,
      `personal data: CPU per op without/with: ${cpu.join(', ')}`,
      `key cache: ${warmLookups} key lookups during the timed appends (loads not run: BENCH_SECURITY=personal-append)`,
    );
    return;
  }

  // Loads: a customer of 100 events per load, round robin over all of them.
  const nextPersonal = roundRobin(ids);
  const nextPlain = roundRobin(ids);
  const nextCold = roundRobin(ids);
  // Warm-up loads included: the lookups below are counted over them too.
  let coldLoads = 0;
  const loadContenders: Contender[] = [
    { name: PERSONAL, op: () => personal.load(nextPersonal()) },
    { name: PLAIN, op: () => plain.load(nextPlain()) },
    {
      name: COLD,
      op: () => {
        coldLoads++;
        return cold.load(nextCold());
      },
    },
  ];
  const loadRatios: number[] = [];
  const coldRatios: number[] = [];
  let coldLookups = 0;
  for (const concurrency of [1, CONCURRENT_LOADS]) {
    const before = { warm: keys.count, cold: coldKeys.count };
    const summaries = await compare(loadContenders, {
      ...timing(settings),
      concurrency,
      minOps: 20,
    });
    warmLookups += keys.count - before.warm;
    coldLookups += coldKeys.count - before.cold;
    const when =
      concurrency === 1 ? 'sequential' : `${CONCURRENT_LOADS} concurrent`;
    const label = `load ${EVENTS_PER_CUSTOMER}-event aggregate with personal data, ${when}`;
    const loadRow = row(
      `${label} (${aimText(AIM_PERSONAL)})`,
      'ops/s',
      summaryOf(summaries, PERSONAL).opsPerSecond,
      { name: PLAIN, value: summaryOf(summaries, PLAIN).opsPerSecond },
    );
    const coldRow = row(
      `${label}, cold key cache (no aim)`,
      'ops/s',
      summaryOf(summaries, COLD).opsPerSecond,
      { name: PLAIN, value: summaryOf(summaries, PLAIN).opsPerSecond },
    );
    rows.push(loadRow, coldRow);
    loadRatios.push(loadRow.ratio ?? NaN);
    coldRatios.push(coldRow.ratio ?? NaN);
    if (concurrency === 1) {
      rows.push(
        row(
          `load ${EVENTS_PER_CUSTOMER}-event aggregate, sequential, p50`,
          'ms',
          summaryOf(summaries, PERSONAL).p50Ms,
          { name: PLAIN, value: summaryOf(summaries, PLAIN).p50Ms },
        ),
      );
    }
    cpu.push(
      `load ${when} ${cpuRatio(summaries, PERSONAL, PLAIN).toFixed(2)}x (cold ${cpuRatio(summaries, COLD, PLAIN).toFixed(2)}x)`,
    );
  }

  notes.push(
    `aim (issue 19): append with personal data >= ${AIM_PERSONAL}x without: ${verdict(appendRatios, AIM_PERSONAL)}`,
    `aim (issue 19): load (rehydrate) with personal data >= ${AIM_PERSONAL}x without: ${verdict(loadRatios, AIM_PERSONAL)}; cold key cache, no aim: ${coldRatios.map((r) => `${r.toFixed(2)}x`).join(', ')}`,
    `personal data: CPU per op without/with: ${cpu.join(', ')}`,
    `personal data: ${customers.toLocaleString('en-US')} customers (data subjects), each with a ${EVENTS_PER_CUSTOMER}-event stream of each kind, in one store with a master key (keys stored wrapped); the registration seals 2 fields (name, email), each move 1 (address); the baseline is the same event shapes under types without @PersonalData/@DataSubject, through the same store, so it still pays the cipher's check that a type declares no personal data and a scan of each read payload for sealed values`,
    `key cache: keys were cached while timed (steady state: this process made them while seeding, and ${customers.toLocaleString('en-US')} subjects fit the default cache of 10,000): ${warmLookups} key lookups during the timed appends and loads; the cold rows read the same streams through a second app with personalData.cacheSize: 0, which fetched and unwrapped a key for every load (${coldLookups} lookups for ${coldLoads} loads, warm-ups included)`,
  );
}

export const securityBenchmark: Benchmark = {
  name: 'security',
  description:
    'what issue 19 costs: commands over NATS signed (pairwise MACs, and ed25519) vs unsigned; append and load with @PersonalData (sealed) vs the same shapes without',
  async run(settings) {
    const parts = partsToRun();
    const loadAtStart = loadavg()[0];
    const db = new BenchDatabase();
    const apps: INestApplicationContext[] = [];
    const rows: Row[] = [];
    const notes: string[] = [];
    try {
      if (parts.signing) await signedCommands(db, apps, settings, rows, notes);
      if (parts.personal)
        await personalData(db, apps, settings, rows, notes, parts);
      notes.push(
        `"Chronicle" is the secured variant, the baseline the same Chronicle without the feature; medians of ${timing(settings).rounds} rounds per contender, alternating; every app, NATS and PostgreSQL on this machine (${availableParallelism()} CPUs, load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at the end)`,
      );
      return { rows, notes };
    } finally {
      for (const app of apps.reverse()) await app.close();
      await db.close();
    }
  },
};
