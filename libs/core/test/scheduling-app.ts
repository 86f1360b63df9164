import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  type SchedulingOptions,
  type SqlClient,
} from '../src/index.js';
import { schedulingHandlers } from './scheduling.fixture.js';

/**
 * An app instance as a user wires it, with the scheduling fixture's handlers.
 * By default the poller only wakes on its clock, a NOTIFY or an in-process
 * signal: its safety-net poll is an hour of (manual) clock time away.
 */
export async function createSchedulingApp(options: {
  client: SqlClient;
  schema: string;
  scheduling?: SchedulingOptions;
}): Promise<INestApplicationContext> {
  @Module({ providers: schedulingHandlers })
  class SchedulingFeatureModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { client: options.client, schema: options.schema },
        scheduling: {
          pollInterval: '1h',
          retryDelay: '10s',
          maxAttempts: 3,
          ...options.scheduling,
        },
      }),
      SchedulingFeatureModule,
    ],
  }).compile();
  // Failed deliveries are logged on purpose in these tests: keep the output readable.
  moduleRef.useLogger(false);
  return moduleRef.init();
}
