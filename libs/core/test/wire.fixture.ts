import {
  Module,
  type INestApplicationContext,
  type LoggerService,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { IsNotEmpty, IsString } from 'class-validator';
import {
  ChronicleModule,
  Command,
  CommandHandler,
  CommandType,
  EventStore,
  EventType,
  MalformedMessageLog,
  MessageGateway,
  Query,
  QueryHandler,
  QueryType,
  UnitOfWork,
  type ChronicleModuleOptions,
  type ICommandHandler,
  type IQueryHandler,
  type PostgresEventStore,
  type SqlClient,
} from '../src/index.js';
import { freshSchema } from './databases.js';

// Messages of the wire-hygiene tests: a handler that spreads its command into
// an event (so an unknown field would be stored), one with a large reply.

@CommandType('wire.RegisterMember')
export class RegisterMember extends Command<Record<string, unknown>> {
  @IsString()
  @IsNotEmpty()
  memberId: string;

  @IsString()
  name: string;

  constructor(memberId: string, name: string) {
    super();
    this.memberId = memberId;
    this.name = name;
  }
}

@EventType('wire.MemberRegistered')
export class MemberRegistered {
  memberId: string;
  name: string;
}

@CommandType('wire.ExportReport')
export class ExportReport extends Command<string> {
  constructor(
    readonly reportId: string,
    /** How many characters the reply holds. */
    readonly size: number,
  ) {
    super();
  }
}

@EventType('wire.ReportExported')
export class ReportExported {
  constructor(readonly reportId: string) {}
}

@QueryType('wire.Echo')
export class Echo extends Query<string> {
  constructor(readonly text: string) {
    super();
  }
}

@CommandHandler(RegisterMember)
export class RegisterMemberHandler implements ICommandHandler<RegisterMember> {
  constructor(private readonly unitOfWork: UnitOfWork) {}

  async execute(command: RegisterMember): Promise<Record<string, unknown>> {
    // The careless handler: whatever the command holds becomes the event.
    const event = Object.assign(new MemberRegistered(), { ...command });
    await this.unitOfWork.append(`member-${command.memberId}`, [event], 'any');
    return { ...command };
  }
}

@CommandHandler(ExportReport)
export class ExportReportHandler implements ICommandHandler<ExportReport> {
  constructor(private readonly unitOfWork: UnitOfWork) {}

  async execute({ reportId, size }: ExportReport): Promise<string> {
    await this.unitOfWork.append(
      `report-${reportId}`,
      [new ReportExported(reportId)],
      'any',
    );
    return 'r'.repeat(size);
  }
}

@QueryHandler(Echo)
export class EchoHandler implements IQueryHandler<Echo> {
  async execute({ text }: Echo): Promise<string> {
    return text;
  }
}

@Module({
  providers: [RegisterMemberHandler, ExportReportHandler, EchoHandler],
})
export class WireModule {}

/** A logger that keeps what Chronicle logs, to count lines. */
export class CapturedLogger implements LoggerService {
  readonly lines: { level: string; text: string }[] = [];
  log(message: unknown) {
    this.lines.push({ level: 'log', text: String(message) });
  }
  warn(message: unknown) {
    this.lines.push({ level: 'warn', text: String(message) });
  }
  error(message: unknown) {
    this.lines.push({ level: 'error', text: String(message) });
  }
  debug() {}
  verbose() {}
}

export interface WireApp {
  readonly app: INestApplicationContext;
  readonly gateway: MessageGateway;
  readonly store: PostgresEventStore;
  readonly malformed: MalformedMessageLog;
  readonly logger: CapturedLogger;
  /** Events and command records in this app's store. */
  storedRows(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A microclient with (or without) the wire handlers, in a schema of its own.
 * Nest's logger is process-wide: apps of one test share one `logger`.
 */
export async function startWireApp(options: {
  readonly client: SqlClient;
  readonly handlers: boolean;
  readonly chronicle: ChronicleModuleOptions;
  readonly logger?: CapturedLogger;
}): Promise<WireApp> {
  const logger = options.logger ?? new CapturedLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        ...options.chronicle,
        database: { client: options.client, schema: freshSchema('wire') },
      }),
      ...(options.handlers ? [WireModule] : []),
    ],
  }).compile();
  moduleRef.useLogger(logger);
  const app = await moduleRef.init();
  const store = app.get(EventStore) as PostgresEventStore;
  let closed = false;
  return {
    app,
    gateway: app.get(MessageGateway),
    store,
    malformed: app.get(MalformedMessageLog),
    logger,
    async storedRows() {
      const [row] = await store.client.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM ${store.schema.events})::int +
                (SELECT count(*) FROM ${store.schema.handledCommands})::int AS n`,
      );
      return row.n;
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
