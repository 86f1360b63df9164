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
const ACCOUNT_ID = 'big';

const LOAD = 'Chronicle AggregateRepository.load';
const READ = 'Chronicle EventStore.readStream';
const RAW_FOLD = 'raw pg SELECT + fold';
const RAW_SELECT = 'raw pg SELECT';

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
      const streamId = accountStream(ACCOUNT_ID);
      for (let from = 0; from < EVENTS; from += 1000) {
        await store.append(streamId, seedEnvelopes(from, 1000), {
          expectedVersion: from === 0 ? 'noStream' : from,
        });
      }

      // Both sides select from the same table, the same stream; pg parses the jsonb.
      const select = `SELECT type, payload FROM ${store.schema.events} WHERE stream_id = $1::text ORDER BY stream_version`;
      const rawRows = async () =>
        (
          await db.pool.query<{ type: string; payload: unknown }>(select, [
            streamId,
          ])
        ).rows;

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
      ];
      const achieved = load.opsPerSecond * EVENTS;
      const verdict = achieved >= AIM_EVENTS_PER_SECOND ? 'MET' : 'NOT MET';
      return {
        rows,
        notes: [
          `aim: AggregateRepository.load above ${AIM_EVENTS_PER_SECOND.toLocaleString('en-US')} events/s: ${verdict} (${Math.round(achieved).toLocaleString('en-US')} events/s)`,
          `loads per round: ${load.rounds[0].ops}; p99 over so few loads is close to the slowest one`,
        ],
      };
    } finally {
      await app?.close();
      await db.close();
    }
  },
};
