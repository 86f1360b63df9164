import {
  ChronicleModule,
  CommandBus,
  EventStore,
  LOG_START,
  newMessageId,
  type Checkpoint,
  type NewEvent,
  type PostgresEventStore,
  type StoredEvent,
} from '@chronicle/core';
import { ChronicleGatewayModule } from '@chronicle/gateway';
import {
  Body,
  Controller,
  HttpCode,
  Module,
  Post,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  RESERVE_STOCK,
  ReserveStock,
  reservationFor,
  Served,
  STOCK_HANDLERS,
  type ReservationRequest,
} from '../domain/stock.js';
import { BenchDatabase } from '../support/database.js';
import { followSse, HttpClient } from '../support/http.js';
import { compare, summaryOf, type Contender } from '../support/measure.js';
import {
  createNatsApp,
  freshNamespace,
  NATS_URL,
  NestMicroservicesPair,
} from '../support/nats-apps.js';
import { row, type Row } from '../support/report.js';
import { median, percentile } from '../support/stats.js';
import type { Benchmark, Settings } from './benchmark.js';

/*
 * Issue 20's benchmark: what the HTTP gateway costs. A command sent as
 * `POST /api/commands/{type}` to an app with the gateway, handled in another
 * app over NATS, against a plain Nest HTTP controller handling it in process
 * (and, second, forwarding it over NATS with @nestjs/microservices); the SSE
 * feed read from the beginning against the raw `readAll` loop it is made of.
 */

const IN_FLIGHT = 64;
/** Events in the log the feed is read over. */
const FEED_EVENTS = 20_000;
const FEED_EVENTS_QUICK = 2_000;
/** What the feed reads per `readAll` (event-feed.controller.ts's BATCH). */
const FEED_BATCH = 500;
/** Events appended before timing, per append (one stream each). */
const APPEND_BATCH = 500;
/** Events appended one by one for the live latency. */
const LIVE_EVENTS = 200;
const LIVE_EVENTS_QUICK = 40;
const FEED_EVENT_TYPE = 'bench.ParcelShipped';

const GATEWAY = 'gateway -> NATS -> handler app';
const PLAIN = 'plain Nest @Post, handler in process';
const FORWARD = 'plain Nest @Post -> @nestjs/microservices NATS';
const DIRECT = 'Chronicle CommandBus -> NATS, no HTTP';
const FEED = 'SSE feed, one client';
const RAW_READ = 'readAll loop + JSON.stringify (no HTTP)';

const RESERVATION: ReservationRequest = {
  sku: 'SKU-1042',
  quantity: 3,
  reservationId: 'check',
};

function timing(settings: Settings): Settings {
  return settings.quick
    ? { ...settings, rounds: 3, roundSeconds: 0.25, warmupSeconds: 0.25 }
    : settings;
}

/** An HTTP app as a user mounts the gateway: Chronicle on NATS, `ChronicleGatewayModule` under /api. */
async function gatewayApp(
  db: BenchDatabase,
  namespace: string,
): Promise<INestApplication> {
  @Module({
    imports: [
      ChronicleModule.forRoot({
        app: 'bench-gateway',
        database: { client: db.client, schema: db.reserveSchema('gateway') },
        transport: {
          nats: { servers: NATS_URL, name: 'bench-gateway' },
          namespace,
        },
        // The command is trivial: no record, no log, so the HTTP edge and the hop are what is measured.
        commands: { deduplicate: false },
        messageLog: false,
      }),
      ChronicleGatewayModule.forRoot({
        path: 'api',
        rateLimit: false,
        docs: false,
      }),
    ],
  })
  class BenchGatewayModule {}
  const app = await NestFactory.create(BenchGatewayModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

/**
 * The baselines' HTTP app: plain Nest controllers with no Chronicle, doing the
 * same JSON work as the gateway (Express parses the body, the handler builds
 * the reservation, `{ id, result }` goes back as JSON). `/reserve` handles it
 * in process; `/forward` sends it to a @nestjs/microservices app over NATS.
 */
async function plainApp(forward: NestMicroservicesPair): Promise<{
  app: INestApplication;
  handled: { count: number };
}> {
  const handled = { count: 0 };
  @Controller()
  class PlainReservationsController {
    @Post('reserve')
    @HttpCode(200)
    reserve(@Body() body: ReservationRequest): {
      id: string;
      result: unknown;
    } {
      handled.count++;
      return { id: randomUUID(), result: reservationFor(body) };
    }

    @Post('forward')
    @HttpCode(200)
    async forward(
      @Body() body: ReservationRequest,
    ): Promise<{ id: string; result: unknown }> {
      return { id: randomUUID(), result: await forward.send(body) };
    }
  }
  @Module({ controllers: [PlainReservationsController] })
  class PlainHttpModule {}
  const app = await NestFactory.create(PlainHttpModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, handled };
}

async function commandRoundTrips(
  db: BenchDatabase,
  closers: (() => Promise<unknown>)[],
  settings: Settings,
  rows: Row[],
  notes: string[],
): Promise<INestApplication> {
  const namespace = freshNamespace();
  const handlerApp = await createNatsApp({
    app: 'bench-handler',
    namespace,
    client: db.client,
    schema: db.reserveSchema('gateway_handler'),
    providers: STOCK_HANDLERS,
    commands: { deduplicate: false },
    messageLog: false,
  });
  closers.push(() => handlerApp.close());
  const gateway = await gatewayApp(db, namespace);
  closers.push(() => gateway.close());
  let forwarded = 0;
  const nest = await NestMicroservicesPair.start(
    `bench.${namespace}.nest.reserve`,
    (data) => {
      forwarded++;
      return reservationFor(data as ReservationRequest);
    },
  );
  closers.push(() => nest.close());
  const plain = await plainApp(nest);
  closers.push(() => plain.app.close());
  const client = new HttpClient(IN_FLIGHT);
  closers.push(() => Promise.resolve(client.close()));
  await db.warmPool();

  const gatewayUrl = `${await gateway.getUrl()}/api/commands/${RESERVE_STOCK}`;
  const plainBase = await plain.app.getUrl();
  const urls = {
    [GATEWAY]: gatewayUrl,
    [PLAIN]: `${plainBase}/reserve`,
    [FORWARD]: `${plainBase}/forward`,
  };

  // Before timing: each contender answers with the reservation, and the one
  // meant to cross to another app did (its handler there ran).
  const served = handlerApp.get(Served);
  const expected = JSON.stringify(reservationFor(RESERVATION));
  for (const [name, url] of Object.entries(urls)) {
    const reply = (await client.postJson(url, RESERVATION)) as {
      id?: unknown;
      result?: unknown;
    };
    if (
      typeof reply.id !== 'string' ||
      JSON.stringify(reply.result) !== expected
    ) {
      throw new Error(
        `gateway: "${name}" did not answer with the reservation before timing: ${JSON.stringify(reply)}`,
      );
    }
  }
  const commands = gateway.get(CommandBus);
  const direct = await commands.execute(
    new ReserveStock(RESERVATION.sku, RESERVATION.quantity, 'check'),
  );
  if (
    JSON.stringify(direct) !== expected ||
    served.commands !== 2 ||
    plain.handled.count !== 1 ||
    forwarded !== 1
  ) {
    throw new Error(
      `gateway: each handler should have run before timing: ${JSON.stringify({ direct, handlerApp: served.commands, plain: plain.handled.count, forwarded })}`,
    );
  }

  let n = 0;
  const send = (url: string) => () =>
    client.postJson(url, { ...RESERVATION, reservationId: `r-${++n}` });
  const contenders: Contender[] = [
    { name: GATEWAY, op: send(urls[GATEWAY]) },
    { name: PLAIN, op: send(urls[PLAIN]) },
    { name: FORWARD, op: send(urls[FORWARD]) },
    {
      name: DIRECT,
      op: () =>
        commands.execute(
          new ReserveStock(RESERVATION.sku, RESERVATION.quantity, `r-${++n}`),
        ),
    },
  ];
  const cpu: string[] = [];
  for (const concurrency of [1, IN_FLIGHT]) {
    const summaries = await compare(contenders, {
      ...timing(settings),
      concurrency,
    });
    const gw = summaryOf(summaries, GATEWAY);
    const when = concurrency === 1 ? 'sequential' : `${IN_FLIGHT} in flight`;
    for (const baseline of [PLAIN, FORWARD, DIRECT]) {
      rows.push(
        row(`POST /commands round trip, ${when}`, 'ops/s', gw.opsPerSecond, {
          name: baseline,
          value: summaryOf(summaries, baseline).opsPerSecond,
        }),
      );
    }
    if (concurrency === 1) {
      for (const baseline of [PLAIN, FORWARD, DIRECT]) {
        rows.push(
          row(`POST /commands round trip, sequential, p50`, 'ms', gw.p50Ms, {
            name: baseline,
            value: summaryOf(summaries, baseline).p50Ms,
          }),
        );
      }
    }
    cpu.push(
      `${when}: ${[GATEWAY, PLAIN, FORWARD, DIRECT]
        .map((c) => `${c} ${summaryOf(summaries, c).cpuMsPerOp.toFixed(3)}`)
        .join(', ')}`,
    );
  }
  notes.push(
    `command round trip: POST ${RESERVE_STOCK} (a trivial handler that builds a small object; no database work: deduplicate: false and messageLog: false on both Chronicle apps) from one node:http keep-alive agent (up to ${IN_FLIGHT} sockets), the same client for every contender; each checked before timing (the reservation came back, the handler app behind the gateway and the Nest microservice each ran theirs, the in-process controller its own)`,
    `"${PLAIN}" makes NO network hop to another app: the issue asks for this comparison, so its ratio is what the hop over NATS plus the gateway (type lookup, validation, the message envelope, the bus) cost together; "${FORWARD}" makes the same hop with Nest's own NATS client and no Chronicle (no validation, no envelope), so its ratio is closer to the gateway's own cost; "${DIRECT}" is the same command sent from the gateway's app by CommandBus.execute, so its ratio is what the HTTP edge (Express, the route, body to message, validation) costs on top of Chronicle's own hop`,
    `CPU ms per command (this process: client, HTTP apps and NATS apps together): ${cpu.join('; ')}`,
  );
  return gateway;
}

/** The feed's frame of one event, built as event-feed.controller.ts builds it. */
function frameOf(event: StoredEvent): string {
  const data = JSON.stringify({
    id: event.id,
    type: event.type,
    revision: event.revision,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    position: event.position.toString(),
    timestamp: event.timestamp.toISOString(),
    metadata: event.metadata,
    payload: event.payload,
  });
  return `id: ${event.transactionId}-${event.position}\nevent: ${event.type}\ndata: ${data}\n\n`;
}

function parcelEvents(stream: number, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const id = newMessageId();
    return {
      id,
      type: FEED_EVENT_TYPE,
      revision: 1,
      payload: {
        parcelId: `p-${stream}-${i}`,
        weightKg: 1 + (i % 20),
        destination: 'Rotterdam',
      },
      metadata: { correlationId: id },
      timestamp: new Date(),
    };
  });
}

/** Reads the feed from the beginning until `count` events; returns the ids when asked to keep them. */
async function readFeed(
  url: string,
  count: number,
  keep?: string[],
): Promise<number> {
  let seen = 0;
  await followSse(`${url}?after=beginning`, (frame) => {
    keep?.push(frame.id, frame.data);
    return ++seen >= count;
  });
  return seen;
}

/** The floor under the feed: the same reads of the log, each event framed as the feed frames it, no HTTP. */
async function readRaw(store: EventStore, count: number): Promise<number> {
  let seen = 0;
  let after: Checkpoint = LOG_START;
  // Summed and checked so the framing is work whose result is used.
  let bytes = 0;
  while (seen < count) {
    const batch = await store.readAll({ after, limit: FEED_BATCH });
    for (const event of batch.events) {
      bytes += frameOf(event).length;
      if (++seen >= count) break;
    }
    after = batch.checkpoint;
    if (batch.caughtUp && seen < count) {
      throw new Error(`gateway: the log holds ${seen} events, not ${count}`);
    }
  }
  return bytes > 0 ? seen : 0;
}

async function eventFeed(
  gateway: INestApplication,
  settings: Settings,
  rows: Row[],
  notes: string[],
): Promise<void> {
  const total = settings.quick ? FEED_EVENTS_QUICK : FEED_EVENTS;
  const store = gateway.get(EventStore) as PostgresEventStore;
  for (let stream = 0; stream * APPEND_BATCH < total; stream++) {
    await store.append(
      `bench.Parcel-${stream}`,
      parcelEvents(
        stream,
        Math.min(APPEND_BATCH, total - stream * APPEND_BATCH),
      ),
      { expectedVersion: 'noStream' },
    );
  }
  const feedUrl = `${await gateway.getUrl()}/api/events`;

  // Before timing: the feed delivers every event once, in the log's order,
  // framed as the raw loop frames it.
  const frames: string[] = [];
  await readFeed(feedUrl, total, frames);
  const ids = frames.filter((_, i) => i % 2 === 0);
  const places = ids.map((id) => id.split('-').map(BigInt));
  const inOrder = places.every(
    ([tx, pos], i) =>
      i === 0 ||
      tx > places[i - 1][0] ||
      (tx === places[i - 1][0] && pos > places[i - 1][1]),
  );
  const parcels = new Set(
    frames
      .filter((_, i) => i % 2 === 1)
      .map(
        (d) =>
          (JSON.parse(d) as { payload: { parcelId: string } }).payload.parcelId,
      ),
  );
  if (
    ids.length !== total ||
    new Set(ids).size !== total ||
    parcels.size !== total ||
    !inOrder ||
    (await readRaw(store, total)) !== total
  ) {
    throw new Error(
      `gateway: the feed did not deliver ${total} distinct events in order before timing (${ids.length} frames, ${new Set(ids).size} ids, ${parcels.size} parcels, in order: ${inOrder})`,
    );
  }

  // One read of the whole feed per run: a warm-up each, then rounds alternating
  // who goes first; events/s per run, medians.
  const t = timing(settings);
  const runs: { name: string; read: () => Promise<number> }[] = [
    { name: FEED, read: () => readFeed(feedUrl, total) },
    { name: RAW_READ, read: () => readRaw(store, total) },
  ];
  const rates = new Map<string, number[]>(runs.map((r) => [r.name, []]));
  const cpu = new Map<string, number[]>(runs.map((r) => [r.name, []]));
  for (const r of runs) await r.read();
  for (let round = 0; round < t.rounds; round++) {
    for (let k = 0; k < runs.length; k++) {
      const r = runs[(round + k) % runs.length];
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const read = await r.read();
      const ms = performance.now() - t0;
      const used = process.cpuUsage(cpu0);
      if (read !== total) throw new Error(`gateway: ${r.name} read ${read}`);
      rates.get(r.name)!.push((total / ms) * 1000);
      cpu.get(r.name)!.push(((used.user + used.system) / total) * 1e-3);
    }
  }
  rows.push(
    row(
      `SSE feed from after=beginning, ${total.toLocaleString('en-US')} events, one client`,
      'events/s',
      median(rates.get(FEED)!),
      { name: RAW_READ, value: median(rates.get(RAW_READ)!) },
    ),
  );

  // Live: one event appended at a time to a feed following from now; from the
  // append's call to its frame arriving at the client.
  const liveCount = settings.quick ? LIVE_EVENTS_QUICK : LIVE_EVENTS;
  const latencies: number[] = [];
  const commits: number[] = [];
  let waiting: ((frame: string) => void) | undefined;
  let framesSeen = 0;
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const following = followSse(
    `${feedUrl}?after=now`,
    (frame) => {
      waiting?.(frame.data);
      return ++framesSeen >= liveCount;
    },
    () => opened(),
  );
  // The feed reads its start (the head) before it answers: once open, it follows from there.
  await open;
  for (let i = 0; i < liveCount; i++) {
    const [event] = parcelEvents(1_000_000 + i, 1);
    const arrived = new Promise<string>((resolve) => (waiting = resolve));
    const t0 = performance.now();
    await store.append(`bench.LiveParcel-${i}`, [event], {
      expectedVersion: 'noStream',
    });
    commits.push(performance.now() - t0);
    const data = await arrived;
    latencies.push(performance.now() - t0);
    if ((JSON.parse(data) as { id: string }).id !== event.id) {
      throw new Error(`gateway: the live feed sent another event: ${data}`);
    }
  }
  await following;
  rows.push(
    row(
      `live: append to SSE frame at the client, p50`,
      'ms',
      percentile(latencies, 50),
    ),
    row(
      `live: append to SSE frame at the client, p99`,
      'ms',
      percentile(latencies, 99),
    ),
  );

  const cpuText = (name: string) =>
    `${(median(cpu.get(name)!) * 1000).toFixed(1)} us`;
  notes.push(
    `feed: ${total.toLocaleString('en-US')} events (${FEED_EVENT_TYPE}, a 3-field payload) appended before timing in ${APPEND_BATCH}-event streams; each run reads all of them once, from after=beginning to the last (the client then closes); checked before timing: ${total.toLocaleString('en-US')} distinct ids and parcels, in the log's order; "${RAW_READ}" is the same readAll of ${FEED_BATCH} at a time on the same store, each event framed as the feed frames it; medians of ${t.rounds} runs each, alternating; CPU per event (server and client in this process): feed ${cpuText(FEED)}, raw ${cpuText(RAW_READ)}`,
    `live: a client follows ?after=now; ${liveCount} events appended one at a time through the gateway app's store (its in-process append signal wakes the feed), each waited for at the client before the next; the append alone took p50 ${percentile(commits, 50).toFixed(3)} ms of that`,
  );
}

export const gatewayBenchmark: Benchmark = {
  name: 'gateway',
  description:
    'the HTTP gateway (issue 20): POST /commands to a handler in another app over NATS vs a plain Nest @Post; the SSE feed vs a raw readAll loop',
  async run(settings) {
    const loadAtStart = loadavg()[0];
    const db = new BenchDatabase();
    const closers: (() => Promise<unknown>)[] = [];
    const rows: Row[] = [];
    const notes: string[] = [];
    try {
      const gateway = await commandRoundTrips(
        db,
        closers,
        settings,
        rows,
        notes,
      );
      await eventFeed(gateway, settings, rows, notes);
      notes.push(
        `every app (gateway, handler, plain HTTP, Nest microservice), the HTTP client, NATS and PostgreSQL on this machine, the apps and the client in one Node thread (${availableParallelism()} CPUs, load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at the end); medians of ${timing(settings).rounds} rounds per contender, alternating`,
      );
      return { rows, notes };
    } finally {
      for (const close of closers.reverse()) await close();
      await db.close();
    }
  },
};
