// One instance of an app that handles scheduled jobs, started as its own process
// by scheduling.e2e.spec.ts. It records each delivery in e2e_deliveries with a
// plain INSERT (not in the delivery's transaction), so a second delivery of the
// same schedule would show as a second row. MODE=hang: the handler announces
// the claim and never returns, so the test can kill the process mid-delivery.
// MODE=work: the handler records its start at once (a plain INSERT into
// e2e_starts, and a line `started <id>`), works WORK_MS, then records the
// delivery in the delivery's own transaction: e2e_deliveries then holds only
// deliveries that committed, whatever happened to the process.
import 'reflect-metadata';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import {
  ChronicleModule,
  HandleSchedule,
  ScheduleType,
  UnitOfWork,
} from '@chronicle/core';

const { DATABASE_URL, SCHEMA, MODE = 'deliver', INSTANCE = '0' } = process.env;
const CLAIM_TIMEOUT = process.env.CLAIM_TIMEOUT ?? '1m';
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const WORK_MS = Number(process.env.WORK_MS ?? 0);

class Job {
  constructor(n) {
    this.n = n;
  }
}
ScheduleType('e2e.Job')(Job);

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });

class Worker {
  constructor(unitOfWork) {
    this.unitOfWork = unitOfWork;
  }

  async run(job, context) {
    if (MODE === 'work') {
      await pool.query(
        `INSERT INTO "${SCHEMA}".e2e_starts (schedule_id, instance) VALUES ($1, $2)`,
        [context.scheduleId, INSTANCE],
      );
      console.log(`started ${context.scheduleId}`);
      await new Promise((resolve) => setTimeout(resolve, WORK_MS));
      await this.unitOfWork.enlist((tx) =>
        tx.query(
          `INSERT INTO "${SCHEMA}".e2e_deliveries (schedule_id, instance, n) VALUES ($1, $2, $3)`,
          [context.scheduleId, INSTANCE, job.n],
        ),
      );
      return;
    }
    if (MODE === 'hang') {
      console.log(`claimed ${context.scheduleId}`);
      await new Promise(() => undefined);
    }
    await pool.query(
      `INSERT INTO "${SCHEMA}".e2e_deliveries (schedule_id, instance, n) VALUES ($1, $2, $3)`,
      [context.scheduleId, INSTANCE, job.n],
    );
  }
}
HandleSchedule(Job)(
  Worker.prototype,
  'run',
  Object.getOwnPropertyDescriptor(Worker.prototype, 'run'),
);
Inject(UnitOfWork)(Worker, undefined, 0);
Injectable()(Worker);

class AppModule {}
Module({
  imports: [
    ChronicleModule.forRoot({
      app: 'e2e-scheduling',
      database: { url: DATABASE_URL, schema: SCHEMA, poolSize: 6 },
      scheduling: { claimTimeout: CLAIM_TIMEOUT, concurrency: CONCURRENCY },
    }),
  ],
  providers: [Worker],
})(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, {
  logger: ['error'],
});
app.enableShutdownHooks();
process.on('SIGTERM', async () => {
  await app.close();
  await pool.end();
  process.exit(0);
});
console.log('ready');
