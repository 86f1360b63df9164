import {
  Module,
  type INestApplicationContext,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  context,
  propagation,
  trace,
  type SpanContext,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import {
  Aggregate,
  AggregateRoot,
  Apply,
  ChronicleModule,
  Command,
  CommandHandler,
  CommandType,
  Consumer,
  EventStore,
  EventType,
  HandleEvent,
  InjectAggregateRepository,
  type AggregateRepository,
  type ChronicleModuleOptions,
  type ICommandHandler,
  type SqlClient,
  type StoredEvent,
} from '../src/index.js';
import { NATS_URL } from './nats.js';
import { FAST_TRACKING } from './tracking.fixture.js';
import { waitUntil } from './wait-until.js';

// Three apps of the trace tests, each with its own NATS connection, on one
// store: A sends a command, B handles it and stores an event, C's consumer
// reads that event from the store. The only ways trace context can travel
// between them are NATS headers and event metadata.

@EventType('trace.CrateShipped')
export class CrateShipped {
  constructor(readonly crateId: string) {}
}

@Aggregate({ type: 'trace.Crate' })
export class Crate extends AggregateRoot {
  shipped = false;

  ship(): void {
    this.apply(new CrateShipped(this.id));
  }

  @Apply(CrateShipped)
  onShipped(): void {
    this.shipped = true;
  }
}

@CommandType('trace.ShipCrate')
export class ShipCrate extends Command<number> {
  constructor(readonly crateId: string) {
    super();
  }
}

@CommandHandler(ShipCrate)
export class ShipCrateHandler implements ICommandHandler<ShipCrate> {
  constructor(
    @InjectAggregateRepository(Crate)
    private readonly crates: AggregateRepository<Crate>,
  ) {}

  async execute(command: ShipCrate): Promise<number> {
    const crate = await this.crates.loadOrCreate(command.crateId);
    crate.ship();
    await this.crates.save(crate);
    return crate.version;
  }
}

/** The crates app C's consumer saw. */
export const watched: string[] = [];

@Consumer('trace-crates')
export class CrateWatcher {
  @HandleEvent(CrateShipped)
  onShipped(event: CrateShipped): void {
    watched.push(event.crateId);
  }
}

@Module({
  imports: [ChronicleModule.forFeature([Crate])],
  providers: [ShipCrateHandler],
})
export class ShippingModule {}

@Module({ providers: [CrateWatcher] })
export class WatchingModule {}

/** One app of the test, on NATS and the shared store. */
export async function traceApp(
  app: string,
  client: SqlClient,
  schema: string,
  namespace: string,
  features: Type[] = [],
  transport: ChronicleModuleOptions['transport'] = {
    nats: { servers: NATS_URL },
    namespace,
  },
): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        app,
        database: { client, schema },
        transport,
        tracking: FAST_TRACKING,
      }),
      ...features,
    ],
  }).compile();
  return moduleRef.init();
}

/** An OpenTelemetry SDK as an app registers it, with its spans kept in memory. */
export interface TestTracing {
  readonly exporter: InMemorySpanExporter;
  spans(): ReadableSpan[];
  stop(): Promise<void>;
}

export function registerTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    exporter,
    spans: () => exporter.getFinishedSpans(),
    async stop() {
      trace.disable();
      context.disable();
      propagation.disable();
      await provider.shutdown();
    },
  };
}

/** The span context a stored event's `traceparent` names. */
export function storedSpanOf(event: StoredEvent): {
  traceId: string;
  spanId: string;
} {
  const traceparent = event.metadata.traceparent;
  if (typeof traceparent !== 'string') {
    throw new Error(`Event ${event.id} carries no traceparent`);
  }
  const [, traceId, spanId] = traceparent.split('-');
  return { traceId, spanId };
}

/** Whether `span` is `ancestor` or below it, following parents among `spans`. */
export function isWithin(
  spanId: string,
  ancestor: ReadableSpan,
  spans: readonly ReadableSpan[],
): boolean {
  let current: string | undefined = spanId;
  for (let hops = 0; current !== undefined && hops < 50; hops++) {
    if (current === ancestor.spanContext().spanId) return true;
    const span = spans.find((s) => s.spanContext().spanId === current);
    current = span?.parentSpanContext?.spanId;
  }
  return false;
}

/**
 * The `trace.CrateShipped` events of a crate, read from the store once
 * readable: `readAll` returns only what is below the safe horizon, which any
 * open transaction on the database (another suite's) holds back for a while.
 */
export async function shippedEvents(
  app: INestApplicationContext,
  crateId: string,
): Promise<StoredEvent[]> {
  let found: StoredEvent[] = [];
  await waitUntil(async () => {
    const { events } = await app
      .get(EventStore)
      .readAll({ types: ['trace.CrateShipped'] });
    found = events.filter(
      (e) => (e.payload as { crateId?: string }).crateId === crateId,
    );
    return found.length > 0;
  }, `the CrateShipped event of ${crateId} readable`);
  return found;
}

/** The one finished span of this name, failing clearly when there are none or several. */
export function theSpan(
  spans: readonly ReadableSpan[],
  name: string,
): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1) {
    throw new Error(
      `Expected one span "${name}", found ${found.length} among: ${spans.map((s) => s.name).join(', ')}`,
    );
  }
  return found[0];
}

export type { ReadableSpan, SpanContext };
