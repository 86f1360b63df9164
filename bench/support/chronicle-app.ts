import {
  ChronicleModule,
  type AggregateClass,
  type AggregatesOptions,
  type AggregateRoot,
  type CommandHandlingOptions,
  type MessageLogOptions,
  type MetricsOption,
  type PersonalDataModuleOptions,
  type SqlClient,
  type TransportOptions,
} from '@chronicle/core';
import {
  Module,
  type INestApplicationContext,
  type Provider,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/**
 * A Chronicle app as users wire it: `forRoot` over the benchmark's pool and a
 * fresh schema (migrated on start), `forFeature` for its aggregates, and its
 * handlers as providers. Nest's logger is off so it cannot skew timings.
 */
export async function createChronicleApp(options: {
  /** The app's name (its queue group, the name its signature carries); default 'bench'. */
  app?: string;
  client: SqlClient;
  schema: string;
  aggregates: readonly AggregateClass<AggregateRoot>[];
  providers?: Provider[];
  /** Cache and snapshot options; default: Chronicle's defaults (cache off). */
  aggregatesOptions?: AggregatesOptions;
  /** How messages and wake-ups travel; default: in process. */
  transport?: TransportOptions;
  /** How commands are handled; default: Chronicle's defaults (deduplicated). */
  commands?: CommandHandlingOptions;
  /** Prometheus metrics; default: off. */
  metrics?: MetricsOption;
  /** The message log; default: Chronicle's (on, queries off). */
  messageLog?: MessageLogOptions | boolean;
  /** Master key and key cache of personal data; default: Chronicle's. */
  personalData?: PersonalDataModuleOptions;
}): Promise<INestApplicationContext> {
  @Module({
    imports: [ChronicleModule.forFeature(options.aggregates)],
    providers: options.providers ?? [],
  })
  class BenchFeatureModule {}

  @Module({
    imports: [
      ChronicleModule.forRoot({
        app: options.app ?? 'bench',
        database: { client: options.client, schema: options.schema },
        aggregates: options.aggregatesOptions,
        transport: options.transport ?? { local: true },
        ...(options.commands ? { commands: options.commands } : {}),
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...(options.messageLog !== undefined
          ? { messageLog: options.messageLog }
          : {}),
        ...(options.personalData ? { personalData: options.personalData } : {}),
      }),
      BenchFeatureModule,
    ],
  })
  class BenchAppModule {}

  return NestFactory.createApplicationContext(BenchAppModule, {
    logger: false,
  });
}
