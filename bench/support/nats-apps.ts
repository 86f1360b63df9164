import { randomBytes } from 'node:crypto';
import {
  ChronicleModule,
  type CommandHandlingOptions,
  type MessageLogOptions,
  type MetricsOption,
  type SigningOptions,
  type SqlClient,
} from '@chronicle/core';
import {
  Controller,
  Module,
  type INestApplicationContext,
  type INestMicroservice,
  type Provider,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientsModule,
  MessagePattern,
  Payload,
  Transport as NestTransport,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';

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
  /** Prometheus metrics; default: off. */
  metrics?: MetricsOption;
  /** The message log; default: Chronicle's (on, queries off). */
  messageLog?: MessageLogOptions | boolean;
  /** Signed messages; default: off. */
  signing?: SigningOptions;
}): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ChronicleModule.forRoot({
        app: options.app,
        database: { client: options.client, schema: options.schema },
        commands: options.commands,
        metrics: options.metrics,
        ...(options.messageLog !== undefined
          ? { messageLog: options.messageLog }
          : {}),
        transport: {
          nats: { servers: NATS_URL, name: options.app },
          namespace: options.namespace,
          ...(options.signing ? { signing: options.signing } : {}),
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

/** The query baseline's handler: what `@MessagePattern` runs with the request's data. */
export type NestQueryHandler = (data: unknown) => unknown;

/**
 * The framework baseline: plain `@nestjs/microservices` over NATS, as a Nest
 * app would call another without Chronicle. A microservice app whose
 * controller answers `pattern` with a `@MessagePattern` (in a queue group, as
 * Chronicle's handlers are), and a client app with `ClientsModule` NATS whose
 * `ClientProxy.send` is awaited per call. Both do Nest's own JSON work
 * (`{ pattern, data, id }` out, `{ response, isDisposed, id }` back) and no
 * validation; each has its own connection with noAsyncTraces, as Chronicle's.
 */
export class NestMicroservicesPair {
  private constructor(
    private readonly server: INestMicroservice,
    private readonly clientApp: INestApplicationContext,
    private readonly client: ClientProxy,
    readonly pattern: string,
  ) {}

  static async start(
    pattern: string,
    handle: NestQueryHandler,
  ): Promise<NestMicroservicesPair> {
    @Controller()
    class NestBaselineController {
      @MessagePattern(pattern)
      answer(@Payload() data: unknown): unknown {
        return handle(data);
      }
    }
    @Module({ controllers: [NestBaselineController] })
    class NestBaselineServerModule {}

    const server = await NestFactory.createMicroservice<MicroserviceOptions>(
      NestBaselineServerModule,
      {
        transport: NestTransport.NATS,
        options: {
          servers: NATS_URL,
          name: 'bench-nest-server',
          queue: 'bench-nest',
          noAsyncTraces: true,
        },
        logger: false,
      },
    );
    await server.listen();

    @Module({
      imports: [
        ClientsModule.register([
          {
            name: NEST_CLIENT,
            transport: NestTransport.NATS,
            options: {
              servers: NATS_URL,
              name: 'bench-nest-client',
              noAsyncTraces: true,
            },
          },
        ]),
      ],
    })
    class NestBaselineClientModule {}

    const clientApp = await NestFactory.createApplicationContext(
      NestBaselineClientModule,
      { logger: false },
    );
    const client = clientApp.get<ClientProxy>(NEST_CLIENT);
    await client.connect();
    return new NestMicroservicesPair(server, clientApp, client, pattern);
  }

  /** One call: `ClientProxy.send` to the pattern, awaited. */
  send(data: unknown): Promise<unknown> {
    return firstValueFrom(this.client.send(this.pattern, data));
  }

  async close(): Promise<void> {
    await this.clientApp.close();
    await this.server.close();
  }
}

const NEST_CLIENT = 'BENCH_NEST_CLIENT';
