import {
  CommandBus,
  EventStore,
  QueryBus,
  type PostgresEventStore,
} from '@chronicle/core';
import { availableParallelism, loadavg } from 'node:os';
import type { INestApplicationContext } from '@nestjs/common';
import type pg from 'pg';
import {
  GET_QUOTE,
  GetQuote,
  quoteFor,
  RESERVE_STOCK,
  reservationFor,
  ReserveStock,
  Served,
  STOCK_HANDLERS,
  type QuoteRequest,
  type ReservationRequest,
} from '../domain/stock.js';
import { BareNats, type BareHandler } from '../support/bare-nats.js';
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
  NestMicroservicesPair,
} from '../support/nats-apps.js';
import { row, type Row, type Unit } from '../support/report.js';
import type { Benchmark } from './benchmark.js';

const IN_FLIGHT = 64;
const AIM_THROUGHPUT_RATIO = 0.7;
const AIM_P50_MS = 1;
/** Chronicle's query over NATS, 64 in flight, against plain @nestjs/microservices. */
const AIM_NEST_RATIO = 1;
/** Issue 14: the command with its idempotency record, 64 in flight, against the same 2 statements (needs group commit). */
const AIM_COMMAND_PG_RATIO = 2;

const CHRONICLE_QUERY = 'Chronicle QueryBus';
const CHRONICLE_COMMAND = 'Chronicle CommandBus';
const CHRONICLE_COMMAND_PLAIN = 'Chronicle CommandBus, deduplicate: false';
const BARE = 'bare NATS request-reply';
const BARE_PG = 'bare NATS + raw pg (select, insert)';
const NEST = '@nestjs/microservices NATS (ClientProxy.send)';

const QUOTE: QuoteRequest = { sku: 'SKU-1042', quantity: 3 };

/**
 * The honest floor for what Chronicle does with a command off the wire: look
 * its id up in a table shaped like `handled_commands` (a replay answers with
 * the stored result), else build the result and insert id, type and result
 * JSON. The same two prepared statements, on the same pool.
 */
function rawIdempotentReservation(pool: pg.Pool, table: string): BareHandler {
  const find = {
    name: 'bench_transport_find_handled',
    text: `SELECT command_type, result FROM ${table} WHERE command_id = $1::text`,
  };
  const insert = {
    name: 'bench_transport_insert_handled',
    text: `INSERT INTO ${table} (command_id, command_type, result) VALUES ($1::text, $2::text, $3::text::json)`,
  };
  return async ({ id, type, body }) => {
    const found = await pool.query<{
      command_type: string;
      result: { value: unknown } | null;
    }>({ ...find, values: [id] });
    if (found.rows.length > 0) return found.rows[0].result?.value;
    const result = reservationFor(body as ReservationRequest);
    await pool.query({
      ...insert,
      values: [id, type, JSON.stringify({ value: result })],
    });
    return result;
  };
}

async function countRows(pool: pg.Pool, table: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table}`,
  );
  return rows[0].n;
}

function verdict(met: boolean): string {
  return met ? 'MET' : 'NOT MET';
}

function ratioText(value: number): string {
  return `${value.toFixed(2)}x`;
}

export const transportBenchmark: Benchmark = {
  name: 'transport',
  description: `query and command round trips between two Nest apps over NATS (loopback): Chronicle buses vs bare @nats-io/transport-node request-reply and (queries) @nestjs/microservices over NATS`,
  async run(settings) {
    const loadAtStart = loadavg()[0];
    const db = new BenchDatabase();
    const namespace = freshNamespace();
    let handlerApp: INestApplicationContext | undefined;
    let callerApp: INestApplicationContext | undefined;
    // A second pair, in a namespace of its own, with deduplication off.
    const plainNamespace = freshNamespace();
    let plainHandlerApp: INestApplicationContext | undefined;
    let plainCallerApp: INestApplicationContext | undefined;
    let bare: BareNats | undefined;
    let nest: NestMicroservicesPair | undefined;
    try {
      handlerApp = await createNatsApp({
        app: 'bench-handler',
        namespace,
        client: db.client,
        schema: db.reserveSchema('transport_handler'),
        providers: STOCK_HANDLERS,
      });
      callerApp = await createNatsApp({
        app: 'bench-caller',
        namespace,
        client: db.client,
        schema: db.reserveSchema('transport_caller'),
      });
      plainHandlerApp = await createNatsApp({
        app: 'bench-handler',
        namespace: plainNamespace,
        client: db.client,
        schema: db.reserveSchema('transport_plain_handler'),
        providers: STOCK_HANDLERS,
        commands: { deduplicate: false },
      });
      plainCallerApp = await createNatsApp({
        app: 'bench-caller',
        namespace: plainNamespace,
        client: db.client,
        schema: db.reserveSchema('transport_plain_caller'),
      });
      const plainCommands = plainCallerApp.get(CommandBus);
      const rawStore = await db.freshStore('transport_raw');
      await db.warmPool();
      const handlerStore = handlerApp.get(EventStore) as PostgresEventStore;
      const served = handlerApp.get(Served);
      const queries = callerApp.get(QueryBus);
      const commands = callerApp.get(CommandBus);

      bare = await BareNats.connect(NATS_URL);
      const subject = {
        query: `bench.${namespace}.bare.query`,
        command: `bench.${namespace}.bare.command`,
        commandPg: `bench.${namespace}.bare.command-pg`,
      };
      await bare.serve(subject.query, 'bench-bare', ({ body }) =>
        quoteFor(body as QuoteRequest),
      );
      await bare.serve(subject.command, 'bench-bare', ({ body }) =>
        reservationFor(body as ReservationRequest),
      );
      await bare.serve(
        subject.commandPg,
        'bench-bare',
        rawIdempotentReservation(db.pool, rawStore.schema.handledCommands),
      );
      const bareClient = bare;
      nest = await NestMicroservicesPair.start(
        `bench.${namespace}.nest.query`,
        (data) => quoteFor(data as QuoteRequest),
      );
      const nestPair = nest;

      // Every side must cross the wire, and agree on the outcome, before timing.
      const check = {
        chronicleQuery: await queries.execute(
          new GetQuote(QUOTE.sku, QUOTE.quantity),
        ),
        bareQuery: await bareClient.request(subject.query, GET_QUOTE, QUOTE),
        nestQuery: await nestPair.send(QUOTE),
        chronicleCommand: await commands.execute(
          new ReserveStock(QUOTE.sku, QUOTE.quantity, 'check'),
        ),
        bareCommand: await bareClient.request(subject.command, RESERVE_STOCK, {
          ...QUOTE,
          reservationId: 'check',
        }),
        barePgCommand: await bareClient.request(
          subject.commandPg,
          RESERVE_STOCK,
          { ...QUOTE, reservationId: 'check' },
        ),
      };
      const same = (a: unknown, b: unknown) =>
        JSON.stringify(a) === JSON.stringify(b);
      if (
        !same(check.chronicleQuery, check.bareQuery) ||
        !same(check.chronicleQuery, check.nestQuery) ||
        !same(check.chronicleCommand, check.bareCommand) ||
        !same(check.chronicleCommand, check.barePgCommand) ||
        served.queries !== 1 ||
        served.commands !== 1 ||
        (await countRows(db.pool, handlerStore.schema.handledCommands)) !== 1 ||
        (await countRows(db.pool, rawStore.schema.handledCommands)) !== 1
      ) {
        throw new Error(
          `transport: the sides disagree before timing: ${JSON.stringify({ ...check, served })}`,
        );
      }

      let n = 0;
      const reservation = (): ReservationRequest => ({
        ...QUOTE,
        reservationId: `r-${++n}`,
      });
      const queryContenders: Contender[] = [
        {
          name: CHRONICLE_QUERY,
          op: () => queries.execute(new GetQuote(QUOTE.sku, QUOTE.quantity)),
        },
        {
          name: BARE,
          op: () => bareClient.request(subject.query, GET_QUOTE, QUOTE),
        },
        { name: NEST, op: () => nestPair.send(QUOTE) },
      ];
      const commandContenders: Contender[] = [
        {
          name: CHRONICLE_COMMAND,
          op: () => {
            const r = reservation();
            return commands.execute(
              new ReserveStock(r.sku, r.quantity, r.reservationId),
            );
          },
        },
        {
          name: BARE,
          op: () =>
            bareClient.request(subject.command, RESERVE_STOCK, reservation()),
        },
        {
          name: BARE_PG,
          op: () =>
            bareClient.request(subject.commandPg, RESERVE_STOCK, reservation()),
        },
      ];

      const plainCommandContenders: Contender[] = [
        {
          name: CHRONICLE_COMMAND_PLAIN,
          op: () => {
            const r = reservation();
            return plainCommands.execute(
              new ReserveStock(r.sku, r.quantity, r.reservationId),
            );
          },
        },
        {
          name: BARE,
          op: () =>
            bareClient.request(subject.command, RESERVE_STOCK, reservation()),
        },
      ];

      const rows: Row[] = [];
      const against = (
        caseName: string,
        unit: Unit,
        summaries: ReadonlyMap<string, Summary>,
        chronicleName: string,
        baselines: readonly string[],
        pick: (s: Summary) => number,
      ): number[] => {
        const chronicle = pick(summaryOf(summaries, chronicleName));
        return baselines.map((name) => {
          const r = row(caseName, unit, chronicle, {
            name,
            value: pick(summaryOf(summaries, name)),
          });
          rows.push(r);
          return r.ratio ?? NaN;
        });
      };
      const perCase = (
        label: string,
        sequential: ReadonlyMap<string, Summary>,
        inFlight: ReadonlyMap<string, Summary>,
        chronicleName: string,
        baselines: readonly string[],
      ) => {
        const seqRatios = against(
          `${label}, sequential`,
          'ops/s',
          sequential,
          chronicleName,
          baselines,
          (s) => s.opsPerSecond,
        );
        against(
          `${label}, sequential, p50`,
          'ms',
          sequential,
          chronicleName,
          baselines,
          (s) => s.p50Ms,
        );
        against(
          `${label}, sequential, p99`,
          'ms',
          sequential,
          chronicleName,
          baselines,
          (s) => s.p99Ms,
        );
        const inFlightRatios = against(
          `${label}, ${IN_FLIGHT} in flight`,
          'ops/s',
          inFlight,
          chronicleName,
          baselines,
          (s) => s.opsPerSecond,
        );
        return {
          seqRatios,
          inFlightRatios,
          p50: summaryOf(sequential, chronicleName).p50Ms,
        };
      };

      const querySeq = await compare(queryContenders, {
        ...settings,
        concurrency: 1,
      });
      const queryInFlight = await compare(queryContenders, {
        ...settings,
        concurrency: IN_FLIGHT,
      });
      const query = perCase(
        'query round trip',
        querySeq,
        queryInFlight,
        CHRONICLE_QUERY,
        [BARE, NEST],
      );

      const commandSeq = await compare(commandContenders, {
        ...settings,
        concurrency: 1,
      });
      const commandInFlight = await compare(commandContenders, {
        ...settings,
        concurrency: IN_FLIGHT,
      });
      const command = perCase(
        'command round trip + idempotency record',
        commandSeq,
        commandInFlight,
        CHRONICLE_COMMAND,
        [BARE, BARE_PG],
      );

      const plainSeq = await compare(plainCommandContenders, {
        ...settings,
        concurrency: 1,
      });
      const plainInFlight = await compare(plainCommandContenders, {
        ...settings,
        concurrency: IN_FLIGHT,
      });
      const plain = perCase(
        'command round trip, deduplicate: false',
        plainSeq,
        plainInFlight,
        CHRONICLE_COMMAND_PLAIN,
        [BARE],
      );

      const throughputAim = (
        what: string,
        seq: number,
        inFlight: number,
        baseline: string,
      ) =>
        `aim: ${what} throughput at least ${AIM_THROUGHPUT_RATIO * 100}% of ${baseline}: ${verdict(
          seq >= AIM_THROUGHPUT_RATIO && inFlight >= AIM_THROUGHPUT_RATIO,
        )} (sequential ${ratioText(seq)}, ${IN_FLIGHT} in flight ${ratioText(inFlight)})`;
      const latencyAim = (what: string, p50: number) =>
        `aim: ${what} p50 under ${AIM_P50_MS} ms on loopback: ${verdict(p50 < AIM_P50_MS)} (${p50.toFixed(3)} ms)`;

      const handledRows = await countRows(
        db.pool,
        handlerStore.schema.handledCommands,
      );
      return {
        rows,
        notes: [
          `two Nest apps in this process, each with its own NATS connection: 'bench-caller' (no handlers) calls 'bench-handler' over ${new URL(NATS_URL).host}, namespace ${namespace}; the bare baselines use two connections of their own; every connection sets noAsyncTraces, as Chronicle's do`,
          `caller, handler and baselines share one Node thread, with NATS and PostgreSQL on the same machine (${availableParallelism()} CPUs, load average ${loadAtStart.toFixed(1)} at start): the p99s follow the machine's load`,
          `"idempotency record": each Chronicle command off the wire carries its sender's id, so the handler app SELECTs it in handled_commands and INSERTs it with the result (2 pg round trips; ${handledRows} rows written); "${BARE}" does no database work, "${BARE_PG}" runs the same two statements`,
          throughputAim(
            'query',
            query.seqRatios[0],
            query.inFlightRatios[0],
            BARE,
          ),
          `aim: query throughput, ${IN_FLIGHT} in flight, at least ${ratioText(AIM_NEST_RATIO)} ${NEST}: ${verdict(
            query.inFlightRatios[1] >= AIM_NEST_RATIO,
          )} (${ratioText(query.inFlightRatios[1])}; sequential ${ratioText(query.seqRatios[1])})`,
          `"${NEST}": a microservice app answering a @MessagePattern in a queue group and a ClientsModule NATS client app, Nest's own JSON envelope both ways, no validation; Chronicle validates on both sides and carries its envelope in headers`,
          latencyAim('query', query.p50),
          throughputAim(
            'command',
            command.seqRatios[0],
            command.inFlightRatios[0],
            BARE,
          ),
          throughputAim(
            'command',
            command.seqRatios[1],
            command.inFlightRatios[1],
            BARE_PG,
          ),
          `aim (issue 14): command with its idempotency record, ${IN_FLIGHT} in flight, at least ${ratioText(AIM_COMMAND_PG_RATIO)} ${BARE_PG}: ${verdict(
            command.inFlightRatios[1] >= AIM_COMMAND_PG_RATIO,
          )} (${ratioText(command.inFlightRatios[1])})`,
          latencyAim('command', command.p50),
          throughputAim(
            'command (deduplicate: false, no database work)',
            plain.seqRatios[0],
            plain.inFlightRatios[0],
            BARE,
          ),
          latencyAim('command (deduplicate: false)', plain.p50),
        ],
      };
    } finally {
      await bare?.close();
      await nest?.close();
      await plainCallerApp?.close();
      await plainHandlerApp?.close();
      await callerApp?.close();
      await handlerApp?.close();
      await db.close();
    }
  },
};
