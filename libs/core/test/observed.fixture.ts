import {
  Injectable,
  Module,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Registry } from 'prom-client';
import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  ChronicleModule,
  Command,
  CommandHandler,
  CommandType,
  Consumer,
  ErrorType,
  EventType,
  HandleEvent,
  HandleSchedule,
  InjectAggregateRepository,
  ScheduleType,
  type ICommandHandler,
  type SqlClient,
} from '../src/index.js';

// A small app for the metrics and span tests: a counter aggregate, commands
// that add to it (a negative amount is refused by a declared error),
// consumers of its events (one fails on 13, one waits at a gate), schedules.

@EventType('obs.Added')
export class Added {
  constructor(
    readonly counterId: string,
    readonly n: number,
  ) {}
}

@ErrorType('obs.NegativeAmount')
export class NegativeAmount extends Error {}

@Aggregate({ type: 'obs.Counter' })
export class Counter extends AggregateRoot {
  total = 0;

  add(n: number): void {
    if (n < 0) throw new NegativeAmount(`cannot add ${n}`);
    this.apply(new Added(this.id, n));
  }

  @Apply(Added)
  onAdded(event: Added): void {
    this.total += event.n;
  }
}

@CommandType('obs.Add')
export class Add extends Command<number> {
  constructor(
    readonly counterId: string,
    readonly n: number,
  ) {
    super();
  }
}

@CommandHandler(Add)
export class AddHandler implements ICommandHandler<Add> {
  constructor(
    @InjectAggregateRepository(Counter)
    private readonly counters: AggregateRepository<Counter>,
  ) {}

  async execute({ counterId, n }: Add): Promise<number> {
    const counter = await this.counters.loadOrCreate(counterId);
    counter.add(n);
    await this.counters.save(counter);
    return counter.total;
  }
}

/** What the consumers saw, and the gate the `obs-gated` consumer waits at. */
export const observed = {
  tally: [] as number[],
  poison: [] as number[],
  gated: [] as number[],
  reminded: [] as string[],
  gate: Promise.resolve(),
  open: () => undefined as void,
};

/** Closes the gate: `obs-gated` waits at its next event until `observed.open()`. */
export function closeGate(): void {
  let open!: () => void;
  observed.gate = new Promise<void>((resolve) => (open = resolve));
  observed.open = open;
}

export function resetObserved(): void {
  observed.tally.length = 0;
  observed.poison.length = 0;
  observed.gated.length = 0;
  observed.reminded.length = 0;
  observed.gate = Promise.resolve();
}

@Consumer('obs-tally')
export class Tally {
  @HandleEvent(Added)
  onAdded(event: Added): void {
    observed.tally.push(event.n);
  }
}

@Consumer('obs-poison', { maxAttempts: 2, retryDelayMs: 5, onError: 'skip' })
export class Poison {
  @HandleEvent(Added)
  onAdded(event: Added): void {
    if (event.n === 13) throw new Error('13 is unlucky');
    observed.poison.push(event.n);
  }
}

@Consumer('obs-gated')
export class Gated {
  @HandleEvent(Added)
  async onAdded(event: Added): Promise<void> {
    await observed.gate;
    observed.gated.push(event.n);
  }
}

@ScheduleType('obs.Remind')
export class Remind {
  constructor(readonly note: string) {}
}

/** Its handler always throws. */
@ScheduleType('obs.Broken')
export class Broken {
  constructor(readonly note: string) {}
}

/** No handler in this app: stays due. */
@ScheduleType('obs.Orphan')
export class Orphan {
  constructor(readonly note: string) {}
}

@Injectable()
export class Reminders {
  @HandleSchedule(Remind)
  onRemind(remind: Remind): void {
    observed.reminded.push(remind.note);
  }

  @HandleSchedule(Broken)
  onBroken(): void {
    throw new Error('broken on purpose');
  }
}

/** The app, metrics on `registry` (and its own listener on a free port) unless `metrics` is false. */
export async function createObservedApp(options: {
  client: SqlClient;
  schema: string;
  registry?: Registry;
  consumers?: boolean;
}): Promise<INestApplicationContext> {
  @Module({
    imports: [ChronicleModule.forFeature([Counter])],
    providers: [
      AddHandler,
      Reminders,
      ...(options.consumers === false ? [] : [Tally, Poison, Gated]),
    ],
  })
  class ObservedFeatureModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { client: options.client, schema: options.schema },
        metrics: options.registry
          ? { registry: options.registry, port: 0, host: '127.0.0.1' }
          : false,
        scheduling: { maxAttempts: 1, pollInterval: '50ms' },
        tracking: { pollIntervalMs: 10, maxPollIntervalMs: 50 },
      }),
      ObservedFeatureModule,
    ],
  }).compile();
  // Failures are on purpose here: keep the output readable.
  moduleRef.useLogger(false);
  return moduleRef.init();
}
