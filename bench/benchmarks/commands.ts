import {
  CommandBus,
  EventStore,
  type PostgresEventStore,
  type StreamAppend,
} from '@chronicle/core';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus as CqrsCommandBus } from '@nestjs/cqrs';
import { Account, accountStream, seedEnvelopes } from '../domain/account.js';
import {
  Deposit,
  DepositHandler,
  PlainDeposit,
  plainCqrsModule,
  rawDeposit,
} from '../domain/deposit.js';
import { createChronicleApp } from '../support/chronicle-app.js';
import { BenchDatabase } from '../support/database.js';
import {
  compare,
  summaryOf,
  type Contender,
  type Summary,
} from '../support/measure.js';
import { row, type Row, type Unit } from '../support/report.js';
import type { Benchmark } from './benchmark.js';

/** Events each account starts with: "a handful". */
export const SEED_EVENTS = 5;
/** Accounts per contender: enough that streams stay short over the whole run. */
export const ACCOUNTS = 4000;

const CHRONICLE = 'Chronicle CommandBus';
const RAW = 'raw pg (select, fold, insert)';
const CQRS = '@nestjs/cqrs CommandBus + raw pg';

/** Each contender works on its own accounts, round robin, all seeded alike. */
export function accountIds(prefix: string): string[] {
  return Array.from({ length: ACCOUNTS }, (_, i) => `${prefix}-${i}`);
}

export function roundRobin(ids: readonly string[]): () => string {
  let i = 0;
  return () => ids[i++ % ids.length];
}

export async function seed(
  store: PostgresEventStore,
  ids: readonly string[],
): Promise<void> {
  for (let from = 0; from < ids.length; from += 500) {
    const appends: StreamAppend[] = ids.slice(from, from + 500).map((id) => ({
      streamId: accountStream(id),
      events: seedEnvelopes(0, SEED_EVENTS),
      expectedVersion: 'noStream',
    }));
    await store.appendToStreams(appends);
  }
}

export const commandsBenchmark: Benchmark = {
  name: 'commands',
  description:
    'load-then-append command: Chronicle CommandBus vs raw pg vs @nestjs/cqrs + raw pg',
  async run(settings) {
    const db = new BenchDatabase();
    let app: INestApplicationContext | undefined;
    let plain: INestApplicationContext | undefined;
    try {
      app = await createChronicleApp({
        client: db.client,
        schema: db.reserveSchema('commands'),
        aggregates: [Account],
        providers: [DepositHandler],
      });
      await db.warmPool();
      const store = app.get(EventStore) as PostgresEventStore;
      const commands = app.get(CommandBus);
      // All three write to the same table, each to its own accounts.
      const deposit = rawDeposit(db.pool, store.schema.events);
      plain = await NestFactory.createApplicationContext(
        plainCqrsModule(deposit),
        { logger: false },
      );
      const plainBus = plain.get(CqrsCommandBus);

      const ids = {
        chronicle: accountIds('c'),
        raw: accountIds('r'),
        cqrs: accountIds('q'),
      };
      for (const set of Object.values(ids)) await seed(store, set);

      // Every side must do the work, and agree on the outcome, before timing.
      const first = await Promise.all([
        commands.execute(new Deposit('c-0', 1, 'check')),
        deposit('r-0', 1, 'check'),
        plainBus.execute(new PlainDeposit('q-0', 1, 'check')),
      ]);
      if (first.some((version) => version !== SEED_EVENTS + 1)) {
        throw new Error(`commands: versions after one deposit: ${first}`);
      }

      const next = {
        chronicle: roundRobin(ids.chronicle),
        raw: roundRobin(ids.raw),
        cqrs: roundRobin(ids.cqrs),
      };
      let n = 0;
      const contenders: Contender[] = [
        {
          name: CHRONICLE,
          op: () =>
            commands.execute(new Deposit(next.chronicle(), 5, `c-${++n}`)),
        },
        { name: RAW, op: () => deposit(next.raw(), 5, `r-${++n}`) },
        {
          name: CQRS,
          op: () =>
            plainBus.execute(new PlainDeposit(next.cqrs(), 5, `q-${++n}`)),
        },
      ];

      const rows: Row[] = [];
      const against = (
        caseName: string,
        unit: Unit,
        summaries: ReadonlyMap<string, Summary>,
        pick: (s: Summary) => number,
      ) => {
        const chronicle = pick(summaryOf(summaries, CHRONICLE));
        for (const name of [RAW, CQRS]) {
          rows.push(
            row(caseName, unit, chronicle, {
              name,
              value: pick(summaryOf(summaries, name)),
            }),
          );
        }
      };

      const sequential = await compare(contenders, {
        ...settings,
        concurrency: 1,
      });
      against(
        'load+append command, sequential',
        'ops/s',
        sequential,
        (s) => s.opsPerSecond,
      );
      against(
        'load+append command, sequential, p50',
        'ms',
        sequential,
        (s) => s.p50Ms,
      );
      against(
        'load+append command, sequential, p99',
        'ms',
        sequential,
        (s) => s.p99Ms,
      );
      const concurrent = await compare(contenders, {
        ...settings,
        concurrency: 8,
      });
      against(
        'load+append command, 8 concurrent',
        'ops/s',
        concurrent,
        (s) => s.opsPerSecond,
      );

      const { rows: lengths } = await db.pool.query<{ avg: string }>(
        `SELECT round(avg(n), 1)::text AS avg FROM (SELECT count(*) AS n FROM ${store.schema.events} GROUP BY stream_id) s`,
      );
      return {
        rows,
        notes: [
          `each contender: ${ACCOUNTS} accounts of ${SEED_EVENTS} events, round robin; streams average ${lengths[0].avg} events at the end`,
        ],
      };
    } finally {
      await plain?.close();
      await app?.close();
      await db.close();
    }
  },
};
