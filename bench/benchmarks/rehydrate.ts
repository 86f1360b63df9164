import {
  aggregateRepositoryToken,
  EventStore,
  type AggregateRepository,
  type PostgresEventStore,
} from '@chronicle/core';
import type { INestApplicationContext } from '@nestjs/common';
import {
  Account,
  accountStream,
  foldAccount,
  seedEnvelopes,
} from '../domain/account.js';
import { createChronicleApp } from '../support/chronicle-app.js';
import { BenchDatabase } from '../support/database.js';
import { compare, summaryOf } from '../support/measure.js';
import { row } from '../support/report.js';
import type { Benchmark } from './benchmark.js';

const EVENTS = 10_000;
const AIM_EVENTS_PER_SECOND = 150_000;
const AIM_LOAD_RATIO = 0.6;
const AIM_READ_RATIO = 0.7;
const ACCOUNT_ID = 'big';
/** The stream lengths of the scaling chart, besides EVENTS (the main case). */
const SCALING = [
  { events: 1000, id: 'small', rounds: 5, roundSeconds: 0.5 },
  { events: 100_000, id: 'huge', rounds: 3, roundSeconds: 0.5 },
] as const;
const CHART = 'rehydrate-events';

const LOAD = 'Chronicle AggregateRepository.load';
const READ = 'Chronicle EventStore.readStream';
const RAW_FOLD = 'raw pg SELECT + fold';
const RAW_SELECT = 'raw pg SELECT';
const RAW_SELECT_ALL = 'raw pg SELECT * (every column, pg parses)';

export const rehydrateBenchmark: Benchmark = {
  name: 'rehydrate',
  description: `load a ${EVENTS.toLocaleString('en-US')}-event aggregate: AggregateRepository.load vs raw pg SELECT + plain fold`,
  async run(settings) {
    const db = new BenchDatabase();
    let app: INestApplicationContext | undefined;
    try {
      app = await createChronicleApp({
        client: db.client,
        schema: db.reserveSchema('rehydrate'),
        aggregates: [Account],
        // Every load must replay the stream: the cache would answer from memory.
        aggregatesOptions: { cache: false },
      });
      await db.warmPool();
      const store = app.get(EventStore) as PostgresEventStore;
      const accounts = app.get<AggregateRepository<Account>>(
        aggregateRepositoryToken(Account),
      );
      const seed = async (id: string, events: number) => {
        for (let from = 0; from < events; from += 1000) {
          await store.append(accountStream(id), seedEnvelopes(from, 1000), {
            expectedVersion: from === 0 ? 'noStream' : from,
          });
        }
      };
      const streamId = accountStream(ACCOUNT_ID);
      await seed(ACCOUNT_ID, EVENTS);

      // Both sides select from the same table, the same stream; pg parses the jsonb.
      const select = `SELECT type, payload FROM ${store.schema.events} WHERE stream_id = $1::text ORDER BY stream_version`;
      const rawRowsOf = async (stream: string) =>
        (
          await db.pool.query<{ type: string; payload: unknown }>(select, [
            stream,
          ])
        ).rows;
      const rawRows = () => rawRowsOf(streamId);
      // What readStream returns, the raw way: every column, pg's own parsers.
      const selectAll = `SELECT * FROM ${store.schema.events} WHERE stream_id = $1::text ORDER BY stream_version`;
      const rawAllRows = async () =>
        (await db.pool.query(selectAll, [streamId])).rows;

      // The two sides must agree before either is timed.
      const loaded = await accounts.load(ACCOUNT_ID);
      const folded = foldAccount(await rawRows());
      if (
        loaded.version !== EVENTS ||
        folded.version !== EVENTS ||
        loaded.balance !== folded.balance ||
        loaded.lastReference !== folded.lastReference
      ) {
        throw new Error(
          `rehydrate: Chronicle (v${loaded.version}, balance ${loaded.balance}) and the fold (v${folded.version}, balance ${folded.balance}) disagree`,
        );
      }

      const summaries = await compare(
        [
          { name: LOAD, op: () => accounts.load(ACCOUNT_ID) },
          { name: RAW_FOLD, op: async () => foldAccount(await rawRows()) },
          {
            name: READ,
            op: async () => {
              let n = 0;
              for await (const event of store.readStream(streamId)) {
                if (event.streamVersion > 0) n++;
              }
              return n;
            },
          },
          { name: RAW_SELECT, op: rawRows },
          { name: RAW_SELECT_ALL, op: rawAllRows },
        ],
        { ...settings, roundSeconds: 1, minOps: 5, concurrency: 1 },
      );
      const load = summaryOf(summaries, LOAD);
      const raw = summaryOf(summaries, RAW_FOLD);
      const rows = [
        row(
          `load ${EVENTS.toLocaleString('en-US')}-event aggregate`,
          'events/s',
          load.opsPerSecond * EVENTS,
          { name: RAW_FOLD, value: raw.opsPerSecond * EVENTS },
        ),
        row(
          `load ${EVENTS.toLocaleString('en-US')}-event aggregate, ms per load, p50`,
          'ms',
          load.p50Ms,
          {
            name: RAW_FOLD,
            value: raw.p50Ms,
          },
          { chart: CHART, x: EVENTS },
        ),
        row(
          `load ${EVENTS.toLocaleString('en-US')}-event aggregate, ms per load, p99`,
          'ms',
          load.p99Ms,
          {
            name: RAW_FOLD,
            value: raw.p99Ms,
          },
        ),
        row(
          `read ${EVENTS.toLocaleString('en-US')}-event stream, EventStore.readStream only`,
          'events/s',
          summaryOf(summaries, READ).opsPerSecond * EVENTS,
          {
            name: RAW_SELECT,
            value: summaryOf(summaries, RAW_SELECT).opsPerSecond * EVENTS,
          },
        ),
        row(
          `read ${EVENTS.toLocaleString('en-US')}-event stream, EventStore.readStream only`,
          'events/s',
          summaryOf(summaries, READ).opsPerSecond * EVENTS,
          {
            name: RAW_SELECT_ALL,
            value: summaryOf(summaries, RAW_SELECT_ALL).opsPerSecond * EVENTS,
          },
        ),
      ];

      // How a load scales with the stream's length: the same two contenders, few loads for long streams.
      for (const scale of SCALING) {
        await seed(scale.id, scale.events);
        const [mine, theirs] = [
          await accounts.load(scale.id),
          foldAccount(await rawRowsOf(accountStream(scale.id))),
        ];
        if (
          mine.version !== theirs.version ||
          mine.balance !== theirs.balance
        ) {
          throw new Error(
            `rehydrate: at ${scale.events} events, Chronicle (v${mine.version}) and the fold (v${theirs.version}) disagree`,
          );
        }
        const scaled = await compare(
          [
            { name: LOAD, op: () => accounts.load(scale.id) },
            {
              name: RAW_FOLD,
              op: async () =>
                foldAccount(await rawRowsOf(accountStream(scale.id))),
            },
          ],
          {
            ...settings,
            rounds: scale.rounds,
            roundSeconds: scale.roundSeconds,
            minOps: 2,
            concurrency: 1,
          },
        );
        rows.push(
          row(
            `load ${scale.events.toLocaleString('en-US')}-event aggregate, ms per load, p50`,
            'ms',
            summaryOf(scaled, LOAD).p50Ms,
            { name: RAW_FOLD, value: summaryOf(scaled, RAW_FOLD).p50Ms },
            { chart: CHART, x: scale.events },
          ),
        );
      }

      const achieved = load.opsPerSecond * EVENTS;
      const verdict = achieved >= AIM_EVENTS_PER_SECOND ? 'MET' : 'NOT MET';
      const loadRatio = load.opsPerSecond / raw.opsPerSecond;
      const readRatio =
        summaryOf(summaries, READ).opsPerSecond /
        summaryOf(summaries, RAW_SELECT).opsPerSecond;
      const met = (ratio: number, aim: number) =>
        `${ratio >= aim ? 'MET' : 'NOT MET'} (${ratio.toFixed(2)}x)`;
      return {
        rows,
        notes: [
          `aim: AggregateRepository.load above ${AIM_EVENTS_PER_SECOND.toLocaleString('en-US')} events/s: ${verdict} (${Math.round(achieved).toLocaleString('en-US')} events/s)`,
          `aim (issue 14): load >= ${AIM_LOAD_RATIO}x ${RAW_FOLD}: ${met(loadRatio, AIM_LOAD_RATIO)}; readStream >= ${AIM_READ_RATIO}x ${RAW_SELECT}: ${met(readRatio, AIM_READ_RATIO)}`,
          `${RAW_SELECT} fetches type and payload only; readStream returns every field, as ${RAW_SELECT_ALL} does`,
          `loads per round: ${load.rounds[0].ops}; p99 over so few loads is close to the slowest one`,
        ],
      };
    } finally {
      await app?.close();
      await db.close();
    }
  },
};
