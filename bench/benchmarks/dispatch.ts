import {
  CommandBus,
  EventStore,
  QueryBus,
  newMessageId,
  type PostgresEventStore,
} from '@chronicle/core';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  CommandBus as CqrsCommandBus,
  QueryBus as CqrsQueryBus,
} from '@nestjs/cqrs';
import {
  CheckedPing,
  GetPong,
  Ping,
  PING_HANDLERS,
  PlainCheckedPing,
  PlainGetPong,
  PlainPing,
  PlainRecordedPing,
  plainPingModule,
  type RecordCommand,
} from '../domain/ping.js';
import { createChronicleApp } from '../support/chronicle-app.js';
import { BenchDatabase } from '../support/database.js';
import { compare, summaryOf, type Contender } from '../support/measure.js';
import { row, type Row } from '../support/report.js';
import type { Benchmark } from './benchmark.js';
import { validate } from 'class-validator';

const CHRONICLE = 'Chronicle';
const CQRS = '@nestjs/cqrs';
const CQRS_RECORD = '@nestjs/cqrs + raw pg insert of the record';

/** How many callers run at once in the concurrent rows. */
const CONCURRENT = 64;

/** One send of the case's message, numbered `n`. */
type Send = (n: number) => Promise<unknown>;

interface Case {
  readonly name: string;
  readonly chronicle: Send;
  readonly baselineName: string;
  readonly baseline: Send;
}

/** Both sides must give the same answer before anything is timed. */
async function agree(c: Case): Promise<void> {
  const [ours, theirs] = await Promise.all([c.chronicle(7), c.baseline(7)]);
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
    throw new Error(
      `dispatch: ${c.name}: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`,
    );
  }
}

export const dispatchBenchmark: Benchmark = {
  name: 'dispatch',
  description:
    'in-process commandBus/queryBus.execute, handlers that stage no events: Chronicle (routing local) vs plain @nestjs/cqrs',
  async run(settings) {
    const db = new BenchDatabase();
    const apps: INestApplicationContext[] = [];
    try {
      // Commands not recorded: what plain cqrs does, nothing more.
      const lean = await createChronicleApp({
        client: db.client,
        schema: db.reserveSchema('dispatch'),
        aggregates: [],
        providers: PING_HANDLERS,
        commands: { deduplicate: false },
      });
      apps.push(lean);
      // Chronicle's default: every command's outcome recorded in the database.
      const recorded = await createChronicleApp({
        client: db.client,
        schema: db.reserveSchema('dispatch_rec'),
        aggregates: [],
        providers: PING_HANDLERS,
      });
      apps.push(recorded);
      await db.warmPool();
      const table = (recorded.get(EventStore) as PostgresEventStore).schema
        .handledCommands;
      const insert = `INSERT INTO ${table} (command_id, command_type, result, app) VALUES ($1::text, $2::text, $3::text::json, $4::text)`;
      const record: RecordCommand = async (id, type, result) => {
        await db.pool.query(insert, [
          id,
          type,
          JSON.stringify(result),
          'bench',
        ]);
      };
      const plain = await NestFactory.createApplicationContext(
        plainPingModule(record),
        { logger: false },
      );
      apps.push(plain);

      const commands = lean.get(CommandBus);
      const queries = lean.get(QueryBus);
      const recordedCommands = recorded.get(CommandBus);
      const plainCommands = plain.get(CqrsCommandBus);
      const plainQueries = plain.get(CqrsQueryBus);

      let n = 0;
      const cases: Case[] = [
        {
          name: 'local command, no constraints',
          chronicle: (n) => commands.execute(new Ping(n, 'note')),
          baselineName: CQRS,
          baseline: (n) => plainCommands.execute(new PlainPing(n, 'note')),
        },
        {
          name: 'local command, class-validator constraints',
          chronicle: (n) => commands.execute(new CheckedPing(n, 'note')),
          baselineName: `${CQRS} + class-validator validate()`,
          baseline: async (n) => {
            const command = new PlainCheckedPing(n, 'note');
            // Plain cqrs validates nothing: the baseline does what a user would.
            const errors = await validate(command);
            if (errors.length > 0) throw new Error('invalid');
            return plainCommands.execute(command);
          },
        },
        {
          name: 'local query',
          chronicle: (n) => queries.execute(new GetPong(n)),
          baselineName: CQRS,
          baseline: (n) => plainQueries.execute(new PlainGetPong(n)),
        },
        {
          name: 'local command, recorded (deduplicate on)',
          chronicle: (n) => recordedCommands.execute(new Ping(n, 'note')),
          baselineName: CQRS_RECORD,
          baseline: (n) =>
            plainCommands.execute(
              new PlainRecordedPing(newMessageId(), n, 'note'),
            ),
        },
      ];

      const rows: Row[] = [];
      for (const c of cases) {
        await agree(c);
        const contenders: Contender[] = [
          { name: CHRONICLE, op: () => c.chronicle(++n) },
          { name: c.baselineName, op: () => c.baseline(++n) },
        ];
        for (const concurrency of [1, CONCURRENT]) {
          const summaries = await compare(contenders, {
            ...settings,
            concurrency,
          });
          const label =
            concurrency === 1 ? 'sequential' : `${concurrency} concurrent`;
          rows.push(
            row(
              `${c.name}, ${label}`,
              'ops/s',
              summaryOf(summaries, CHRONICLE).opsPerSecond,
              {
                name: c.baselineName,
                value: summaryOf(summaries, c.baselineName).opsPerSecond,
              },
            ),
          );
        }
      }
      return {
        rows,
        notes: [
          'handlers return { n } and stage no events; Chronicle with commands.deduplicate false unless the row says recorded; ' +
            'the recorded row writes one handled_commands row per command in both contenders',
        ],
      };
    } finally {
      for (const app of apps.reverse()) await app.close();
      await db.close();
    }
  },
};
