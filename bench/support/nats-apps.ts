import { randomBytes } from 'node:crypto';
import {
  ChronicleModule,
  type CommandHandlingOptions,
  type SqlClient,
} from '@chronicle/core';
import {
  Module,
  type INestApplicationContext,
  type Provider,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A NATS namespace no earlier run used, so subjects never cross between runs. */
export function freshNamespace(): string {
  return `bench${randomBytes(5).toString('hex')}`;
}

/**
 * A Chronicle app on NATS as a microclient is wired: `forRoot` with its app
 * name (its queue group), the transport and a fresh schema over the
 * benchmark's pool, and its handlers (if any) as providers. Nest's logger is
 * off so it cannot skew timings.
 */
export async function createNatsApp(options: {
  app: string;
  namespace: string;
  client: SqlClient;
  schema: string;
  providers?: Provider[];
  commands?: CommandHandlingOptions;
}): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ChronicleModule.forRoot({
        app: options.app,
        database: { client: options.client, schema: options.schema },
        commands: options.commands,
        transport: {
          nats: { servers: NATS_URL, name: options.app },
          namespace: options.namespace,
        },
      }),
    ],
    providers: options.providers ?? [],
  })
  class BenchNatsAppModule {}

  return NestFactory.createApplicationContext(BenchNatsAppModule, {
    logger: false,
  });
}
