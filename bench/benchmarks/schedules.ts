import { randomUUID } from 'node:crypto';
import {
  ChronicleModule,
  HandleSchedule,
  ScheduleType,
  Scheduler,
  type ScheduleContext,
} from '@chronicle/core';
import {
  Injectable,
  Module,
  type INestApplicationContext,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type pg from 'pg';
import { BenchDatabase, POOL_SIZE } from '../support/database.js';
import { row } from '../support/report.js';
import { median, percentile } from '../support/stats.js';
import type { Benchmark } from './benchmark.js';

const COUNT = 10_000;
/** Rounds per contender: each round fires all COUNT schedules. */
const ROUNDS = 3;
/** How far ahead of "now" the burst is made due, so both sides start asleep. */
const LEAD_MS = 500;
const BASELINE = 'raw pg SKIP LOCKED claim+delete loop';
/** Single schedules timed one after another, for precision on an idle instance. */
const SINGLES = 30;

/*
 * The schedules table also holds Chronicle's own periodic rows (the command
 * records' cleanup): the rounds touch, copy and wait for reminders only.
 */
const REMINDER = 'bench.Reminder';

@ScheduleType(REMINDER)
class Reminder {
  constructor(
    readonly accountId: string,
    readonly note: string,
  ) {}
}

/** Records when each reminder fired, against when it was due. */
@Injectable()
class ReminderHandler {
  lateness: number[] = [];

  @HandleSchedule(Reminder)
  onReminder(_reminder: Reminder, context: ScheduleContext): void {
    this.lateness.push(Date.now() - context.dueAt.getTime());
  }
}

interface Round {
  readonly allFiredMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function roundOf(lateness: readonly number[]): Round {
  return {
    allFiredMs: Math.max(...lateness),
    p50Ms: percentile(lateness, 50),
    p99Ms: percentile(lateness, 99),
  };
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

/**
 * Makes every row of `table` due at one moment, LEAD_MS from now, and
 * returns that moment. Rows are written far in the future first, so that
 * writing them is not part of what is measured.
 */
async function dueTogether(
  pool: pg.Pool,
  table: string,
  channel?: string,
): Promise<number> {
  const dueMs = Date.now() + LEAD_MS;
  await pool.query(
    `UPDATE ${table} SET due_at = to_timestamp($1::float8 / 1000), occurrence_at = to_timestamp($1::float8 / 1000)
      WHERE type = $2`,
    [dueMs, REMINDER],
  );
  if (channel)
    await pool.query('SELECT pg_notify($1, $2)', [channel, `${dueMs}`]);
  return dueMs;
}

/**
 * The floor, with the same guarantee (a row is removed only after it was
 * handled, so a crash loses nothing): POOL_SIZE workers, each sleeping until
 * the due moment (which it is told), then claiming due rows 100 at a time
 * with FOR UPDATE SKIP LOCKED (a claim token and lease, as Chronicle's), parsing
 * each payload, and deleting the batch checked against its token, until none
 * is left. Two statements per 100 rows, no transaction around them.
 */
async function rawRound(pool: pg.Pool, table: string): Promise<Round> {
  const dueMs = await dueTogether(pool, table);
  const lateness: number[] = [];
  const claim = `UPDATE ${table} AS sch
       SET claim_token = $1::uuid, claimed_until = clock_timestamp() + interval '1 minute',
           attempts = sch.attempts + 1
      FROM (SELECT id FROM ${table}
             WHERE status = 'scheduled' AND due_at <= clock_timestamp()
               AND (claimed_until IS NULL OR claimed_until <= clock_timestamp())
             ORDER BY due_at LIMIT 100 FOR UPDATE SKIP LOCKED) AS due
     WHERE sch.id = due.id
    RETURNING sch.id, sch.payload::text AS payload, (extract(epoch FROM sch.due_at) * 1000)::float8 AS due_ms`;
  const remove = `DELETE FROM ${table} WHERE id = ANY($1::text[]) AND claim_token = $2::uuid`;
  const worker = async () => {
    await new Promise((r) => setTimeout(r, Math.max(0, dueMs - Date.now())));
    while (lateness.length < COUNT) {
      const token = randomUUID();
      const { rows } = await pool.query<{
        id: string;
        payload: string;
        due_ms: number;
      }>(claim, [token]);
      if (rows.length === 0) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      for (const r of rows) {
        JSON.parse(r.payload);
        lateness.push(Date.now() - r.due_ms);
      }
      await pool.query(remove, [rows.map((r) => r.id), token]);
    }
  };
  await Promise.all(Array.from({ length: POOL_SIZE }, worker));
  return roundOf(lateness);
}

/** Claims as large as a batch: a delivery slot per row of it. */
const WIDE = 100;

async function chronicleApp(
  db: BenchDatabase,
  schema: string,
  concurrency?: number,
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ChronicleModule.forRoot({
        app: 'bench',
        database: { client: db.client, schema },
        ...(concurrency ? { scheduling: { concurrency } } : {}),
      }),
    ],
    providers: [ReminderHandler],
  })
  class ScheduleBenchModule {}
  return NestFactory.createApplicationContext(ScheduleBenchModule, {
    logger: false,
  });
}

export const schedulesBenchmark: Benchmark = {
  name: 'schedules',
  description: `${COUNT.toLocaleString('en-US')} schedules due at one moment, one instance (default options): time until all fired, lateness`,
  async run() {
    const db = new BenchDatabase();
    const chronicleSchema = db.reserveSchema('schedules_chronicle');
    const wideSchema = db.reserveSchema('schedules_wide');
    const rawSchema = (await db.freshStore('schedules_raw')).schema;
    const app = await chronicleApp(db, chronicleSchema);
    const wideApp = await chronicleApp(db, wideSchema, WIDE);
    try {
      await db.warmPool();
      const scheduler = app.get(Scheduler);
      const handler = app.get(ReminderHandler);
      const table = `"${chronicleSchema}".schedules`;
      const wideTable = `"${wideSchema}".schedules`;
      const chronicle: Round[] = [];
      const wide: Round[] = [];
      const raw: Round[] = [];
      /** Fires every reminder of `schema` at once in its app; then waits for their removal. */
      const chronicleRound = async (
        nest: INestApplicationContext,
        schema: string,
      ): Promise<Round> => {
        const recorder = nest.get(ReminderHandler);
        const rows = `"${schema}".schedules`;
        recorder.lateness = [];
        await dueTogether(db.pool, rows, `${schema}_schedules`);
        await waitFor(() => recorder.lateness.length >= COUNT);
        const fired = roundOf(recorder.lateness);
        // Let the last removals commit before the next round writes.
        while (
          (
            await db.pool.query(
              `SELECT 1 FROM ${rows} WHERE type = $1 LIMIT 1`,
              [REMINDER],
            )
          ).rows.length > 0
        ) {
          await new Promise((r) => setTimeout(r, 10));
        }
        return fired;
      };
      for (let round = 0; round < ROUNDS; round++) {
        const far = new Date(Date.now() + 3_600_000);
        for (let from = 0; from < COUNT; from += 100) {
          await Promise.all(
            Array.from({ length: 100 }, (_, k) =>
              scheduler.schedule(
                new Reminder(`acc-${from + k}`, 'pay the invoice'),
                { at: far },
              ),
            ),
          );
        }
        // The baseline and the wide instance get the very same rows.
        for (const copy of [rawSchema.table('schedules'), wideTable]) {
          await db.pool.query(
            `INSERT INTO ${copy} SELECT * FROM ${table} WHERE type = $1`,
            [REMINDER],
          );
        }
        // Rotate who goes first.
        const contenders = ['c', 'w', 'r'] as const;
        for (let k = 0; k < contenders.length; k++) {
          const who = contenders[(round + k) % contenders.length];
          if (who === 'r')
            raw.push(await rawRound(db.pool, rawSchema.table('schedules')));
          else if (who === 'w')
            wide.push(await chronicleRound(wideApp, wideSchema));
          else chronicle.push(await chronicleRound(app, chronicleSchema));
        }
      }
      // Precision on an idle instance: one schedule at a time, each due a little
      // ahead, made through the Scheduler (whose write wakes the poller).
      const single: number[] = [];
      for (let i = 0; i < SINGLES; i++) {
        handler.lateness = [];
        const ahead = 100 + ((i * 37) % 150);
        await scheduler.schedule(new Reminder(`single-${i}`, 'on time?'), {
          at: new Date(Date.now() + ahead),
        });
        await waitFor(() => handler.lateness.length >= 1);
        single.push(handler.lateness[0]);
      }
      const med = (rounds: Round[], key: keyof Round) =>
        median(rounds.map((r) => r[key]));
      const baseline = (key: keyof Round) => ({
        name: BASELINE,
        value: med(raw, key),
      });
      return {
        rows: [
          row(
            'single schedule on an idle instance: lateness p50',
            'ms',
            percentile(single, 50),
          ),
          row(
            'single schedule on an idle instance: lateness p99',
            'ms',
            percentile(single, 99),
          ),
          row(
            `${COUNT} due at once: until all fired`,
            'ms',
            med(chronicle, 'allFiredMs'),
            baseline('allFiredMs'),
          ),
          row(
            `${COUNT} due at once: lateness p50`,
            'ms',
            med(chronicle, 'p50Ms'),
            baseline('p50Ms'),
          ),
          row(
            `${COUNT} due at once: lateness p99`,
            'ms',
            med(chronicle, 'p99Ms'),
            baseline('p99Ms'),
          ),
          row(
            `${COUNT} due at once, concurrency ${WIDE}: until all fired`,
            'ms',
            med(wide, 'allFiredMs'),
            baseline('allFiredMs'),
          ),
          row(
            `${COUNT} due at once, concurrency ${WIDE}: lateness p50`,
            'ms',
            med(wide, 'p50Ms'),
            baseline('p50Ms'),
          ),
        ],
        notes: [
          `Precision: ${SINGLES} single schedules, one after another on the idle instance, each due 100-250 ms after it was made; aim: fired within 100 ms of due: ${percentile(single, 99) < 100 ? 'MET' : 'NOT MET'} (p99 ${percentile(single, 99).toFixed(1)} ms).`,
          `${ROUNDS} rounds each, alternating; medians. Lateness: fire time minus due time. Chronicle fires each in a @HandleSchedule`,
          `method that writes nothing, so rows are removed in batches without a transaction each (concurrency 8, so claims of at most 8; pool ${POOL_SIZE});`,
          'the baseline claims 100 rows (token, lease), parses them, then deletes them: the same at-least-once guarantee, no handler.',
          `An instance claims no more rows than it has free delivery slots, so with the default concurrency of 8 a burst takes a round trip per 8 rows;`,
          `the "concurrency ${WIDE}" rows are a second instance with scheduling.concurrency ${WIDE}, claiming a batch (${WIDE}) at a time.`,
        ],
      };
    } finally {
      await app.close();
      await wideApp.close();
      await db.close();
    }
  },
};
