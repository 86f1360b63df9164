import { ChronicleModule, CommandBus } from '@chronicle/core';
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
import {
  RESERVE_STOCK,
  ReserveStock,
  reservationFor,
  Served,
  STOCK_HANDLERS,
  type ReservationRequest,
} from '../domain/stock.js';
import { BenchDatabase } from '../support/database.js';
import { HttpClient } from '../support/http.js';
import { compare, summaryOf, type Contender } from '../support/measure.js';
import {
  createNatsApp,
  freshNamespace,
  NATS_URL,
  NestMicroservicesPair,
} from '../support/nats-apps.js';
import { row, type Row } from '../support/report.js';
import type { Benchmark, Settings } from './benchmark.js';
import { eventFeed } from './gateway-feed.js';

/*
 * Issue 20's benchmark: what the HTTP gateway costs. A command sent as
 * `POST /api/commands/{type}` to an app with the gateway, handled in another
 * app over NATS, against a plain Nest HTTP controller handling it in process
 * (and, second, forwarding it over NATS with @nestjs/microservices); the SSE
 * feed read from the beginning against the raw `readAll` loop it is made of.
 */

const IN_FLIGHT = 64;

const GATEWAY = 'gateway -> NATS -> handler app';
const PLAIN = 'plain Nest @Post, handler in process';
const FORWARD = 'plain Nest @Post -> @nestjs/microservices NATS';
const DIRECT = 'Chronicle CommandBus -> NATS, no HTTP';

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
      await eventFeed(gateway, timing(settings), rows, notes);
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
