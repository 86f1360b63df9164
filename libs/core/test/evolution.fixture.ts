import {
  Injectable,
  Module,
  type INestApplicationContext,
} from '@nestjs/common';
import { CapturingLogger, Test } from '@nestjs/testing';
import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  ChronicleModule,
  Command,
  CommandHandler,
  CommandType,
  EventType,
  InjectAggregateRepository,
  newMessageId,
  Upcaster,
  type AggregatesOptions,
  type EventData,
  type ICommandHandler,
  type NewEvent,
  type SqlClient,
} from '../src/index.js';

// A tally that long-lived aggregates, snapshots, the cache and upcasters are
// tested on. Revision 3 of Tallied is { amount: { value } }; revision 1 was
// { value }, revision 2 { amount, unit }. 'evo.Counted' was its old name, and
// 'evo.BatchTallied' (split into Tallied events) and 'evo.Ping' (dropped) are
// stored but no longer declared.

export const TALLY_TYPE = 'evo.Tally';

@EventType('evo.Tallied', { revision: 3 })
export class Tallied {
  constructor(
    readonly amount: { value: number },
    readonly note = '',
  ) {}
}

@EventType('evo.Reset')
export class Reset {}

@Aggregate({ type: TALLY_TYPE, snapshotEvery: 500, snapshotRevision: 2 })
export class Tally extends AggregateRoot {
  count = 0;
  sum = 0;
  notes: string[] = [];

  add(value: number, note = ''): void {
    this.apply(new Tallied({ value }, note));
  }

  @Apply(Tallied)
  onTallied(event: Tallied): void {
    this.count++;
    this.sum += event.amount.value;
    if (event.note) this.notes = [...this.notes.slice(-4), event.note];
  }

  @Apply(Reset)
  onReset(): void {
    this.sum = 0;
  }
}

@Injectable()
export class TallyUpcasters {
  @Upcaster('evo.Tallied', 1)
  toR2({ payload }: EventData) {
    return { payload: { amount: payload.value, unit: 'pcs' } };
  }

  @Upcaster('evo.Tallied', 2)
  toR3({ payload }: EventData) {
    return { payload: { amount: { value: payload.amount } } };
  }

  @Upcaster('evo.Counted', 1)
  renamed({ payload }: EventData) {
    return { type: 'evo.Tallied', revision: 2, payload: { amount: payload.n } };
  }

  @Upcaster('evo.BatchTallied', 1)
  split({ payload }: EventData) {
    return (payload.values as number[]).map((value) => ({
      type: 'evo.Tallied',
      revision: 3,
      payload: { amount: { value } },
    }));
  }

  @Upcaster('evo.Ping', 1)
  drop() {
    return null;
  }
}

@CommandType('evo.AddToTally')
export class AddToTally extends Command<{
  count: number;
  sum: number;
  version: number;
}> {
  constructor(
    readonly id: string,
    readonly value: number,
  ) {
    super();
  }
}

/** Lets a test act between a handler's load and its save. */
export const tallyHooks = {
  beforeSave: async (): Promise<void> => undefined,
};

@CommandHandler(AddToTally)
export class AddToTallyHandler implements ICommandHandler<AddToTally> {
  constructor(
    @InjectAggregateRepository(Tally)
    private readonly tallies: AggregateRepository<Tally>,
  ) {}

  async execute({ id, value }: AddToTally) {
    const tally = await this.tallies.loadOrCreate(id);
    tally.add(value);
    await tallyHooks.beforeSave();
    await this.tallies.save(tally);
    return { count: tally.count, sum: tally.sum, version: tally.version };
  }
}

/** A Tally app on a schema, as a microclient instance would run. */
export async function tallyApp(
  client: SqlClient,
  schema: string,
  aggregates?: AggregatesOptions,
  logger = new CapturingLogger(),
): Promise<INestApplicationContext> {
  @Module({
    imports: [ChronicleModule.forFeature([Tally])],
    providers: [AddToTallyHandler, TallyUpcasters],
  })
  class TallyModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { client, schema },
        commands: { retries: 5, retryDelayMs: 1 },
        aggregates,
      }),
      TallyModule,
    ],
  })
    .setLogger(logger)
    .compile();
  return moduleRef.init();
}

/** Stored-event envelopes for raw appends: what older code once wrote. */
export function rawEvents(
  events: readonly {
    type: string;
    revision?: number;
    payload: Record<string, unknown>;
  }[],
): NewEvent[] {
  const correlationId = newMessageId();
  return events.map((e) => ({
    id: newMessageId(),
    type: e.type,
    revision: e.revision ?? 1,
    payload: e.payload,
    metadata: { correlationId },
    timestamp: new Date(),
  }));
}
