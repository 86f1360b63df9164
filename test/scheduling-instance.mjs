// One instance of an app that handles scheduled jobs, started as its own process
// by scheduling.e2e.spec.ts. It records each delivery in e2e_deliveries with a
// plain INSERT (not in the delivery's transaction), so a second delivery of the
// same schedule would show as a second row. MODE=hang: the handler announces
// the claim and never returns, so the test can kill the process mid-delivery.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { ChronicleModule, HandleSchedule, ScheduleType } from '@chronicle/core';

const { DATABASE_URL, SCHEMA, MODE = 'deliver', INSTANCE = '0' } = process.env;
const CLAIM_TIMEOUT = process.env.CLAIM_TIMEOUT ?? '1m';

class Job {
  constructor(n) {
    this.n = n;
  }
}
ScheduleType('e2e.Job')(Job);

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });

class Worker {
  async run(job, context) {
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
Injectable()(Worker);

class AppModule {}
Module({
  imports: [
    ChronicleModule.forRoot({
      app: 'e2e-scheduling',
      database: { url: DATABASE_URL, schema: SCHEMA, poolSize: 6 },
      scheduling: { claimTimeout: CLAIM_TIMEOUT },
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
