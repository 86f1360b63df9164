import {
  Inject,
  Injectable,
  Module,
  Scope,
  type INestApplicationContext,
} from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { ofType, Saga } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { map, type Observable } from 'rxjs';
import { waitUntil } from '../../test/wait-until.js';
import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  AsyncContext,
  ChronicleModule,
  Command,
  CommandBus,
  CommandHandler,
  CommandType,
  EventBus,
  EventsHandler,
  EventType,
  InjectAggregateRepository,
  Query,
  QueryBus,
  QueryHandler,
  QueryType,
  type ICommandHandler,
  type IEventHandler,
  type IQueryHandler,
} from '../index.js';

// @nestjs/cqrs's request scope, with ChronicleModule.forRoot() in place of
// CqrsModule.forRoot(): a handler declared with `scope: Scope.REQUEST` is
// resolved for the AsyncContext given to `execute` (or attached to the
// message), and what it publishes reaches request-scoped event handlers, and
// sagas, in that same context.

@EventType('scope.VisitRecorded')
class VisitRecorded {
  constructor(readonly visitorId: string) {}
}

@Aggregate({ type: 'scope.Visitor' })
class Visitor extends AggregateRoot {
  visits = 0;

  visit(): void {
    this.apply(new VisitRecorded(this.id));
  }

  @Apply(VisitRecorded)
  onVisit(): void {
    this.visits++;
  }
}

@CommandType('scope.RecordVisit')
class RecordVisit extends Command<{ visits: number }> {
  constructor(readonly visitorId: string) {
    super();
  }
}

/** A plain @nestjs/cqrs command, without a Chronicle type name. */
class Wave {
  constructor(readonly visitorId: string) {}
}

/** Sent by the saga, in the context of the event that triggered it. */
class ThankVisitor {
  constructor(readonly visitorId: string) {}
}

@QueryType('scope.CountVisits')
class CountVisits extends Query<number> {
  constructor(readonly visitorId: string) {
    super();
  }
}

/** What a request-scoped instance was given, and in which context it was made. */
abstract class Recorder {
  readonly handled: object[] = [];
  constructor(readonly context: AsyncContext) {}
}

@CommandHandler(RecordVisit, { scope: Scope.REQUEST })
class RecordVisitHandler
  extends Recorder
  implements ICommandHandler<RecordVisit>
{
  constructor(
    @Inject(REQUEST) context: AsyncContext,
    @InjectAggregateRepository(Visitor)
    private readonly visitors: AggregateRepository<Visitor>,
  ) {
    super(context);
  }

  async execute(command: RecordVisit) {
    this.handled.push(command);
    const visitor = await this.visitors.loadOrCreate(command.visitorId);
    visitor.visit();
    await this.visitors.save(visitor);
    return { visits: visitor.visits };
  }
}

@CommandHandler(Wave, { scope: Scope.REQUEST })
class WaveHandler extends Recorder implements ICommandHandler<Wave> {
  constructor(@Inject(REQUEST) context: AsyncContext) {
    super(context);
  }

  execute(command: Wave): Promise<string> {
    this.handled.push(command);
    return Promise.resolve(`waved at ${command.visitorId}`);
  }
}

@CommandHandler(ThankVisitor, { scope: Scope.REQUEST })
class ThankVisitorHandler
  extends Recorder
  implements ICommandHandler<ThankVisitor>
{
  constructor(@Inject(REQUEST) context: AsyncContext) {
    super(context);
  }

  execute(command: ThankVisitor): Promise<void> {
    this.handled.push(command);
    return Promise.resolve();
  }
}

@QueryHandler(CountVisits, { scope: Scope.REQUEST })
class CountVisitsHandler
  extends Recorder
  implements IQueryHandler<CountVisits>
{
  constructor(
    @Inject(REQUEST) context: AsyncContext,
    @InjectAggregateRepository(Visitor)
    private readonly visitors: AggregateRepository<Visitor>,
  ) {
    super(context);
  }

  async execute(query: CountVisits): Promise<number> {
    this.handled.push(query);
    return (await this.visitors.find(query.visitorId))?.visits ?? 0;
  }
}

@EventsHandler(VisitRecorded, { scope: Scope.REQUEST })
class VisitRecordedHandler
  extends Recorder
  implements IEventHandler<VisitRecorded>
{
  constructor(@Inject(REQUEST) context: AsyncContext) {
    super(context);
  }

  handle(event: VisitRecorded): void {
    this.handled.push(event);
  }
}

@Injectable()
class VisitSagas {
  @Saga()
  thank = (events$: Observable<object>): Observable<ThankVisitor> =>
    events$.pipe(
      ofType(VisitRecorded),
      map((event) => {
        const command = new ThankVisitor(event.visitorId);
        AsyncContext.merge(event, command);
        return command;
      }),
    );
}

@Module({
  imports: [ChronicleModule.forFeature([Visitor])],
  providers: [
    RecordVisitHandler,
    WaveHandler,
    ThankVisitorHandler,
    CountVisitsHandler,
    VisitRecordedHandler,
    VisitSagas,
  ],
})
class VisitorsModule {}

describe('Request-scoped handlers, as with @nestjs/cqrs', () => {
  let app: INestApplicationContext;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ChronicleModule.forRoot(), VisitorsModule],
    }).compile();
    app = await moduleRef.init();
  });

  afterAll(() => app.close());

  /** A context as an HTTP request would make one, registered as its REQUEST. */
  function newContext(): AsyncContext {
    const context = new AsyncContext();
    app.registerRequestByContextId(context, context.id);
    return context;
  }

  it('runs the command handler instance resolved for the context given to execute', async () => {
    const context = newContext();
    const handler = await app.resolve(RecordVisitHandler, context.id);
    const command = new RecordVisit('v-1');

    expect(await app.get(CommandBus).execute(command, context)).toEqual({
      visits: 1,
    });
    expect(handler.handled).toEqual([command]);
    expect(handler.context).toBe(context);
  });

  it('does the same for a plain @nestjs/cqrs command', async () => {
    const context = newContext();
    const handler = await app.resolve(WaveHandler, context.id);
    const command = new Wave('v-2');

    expect(await app.get(CommandBus).execute(command, context)).toBe(
      'waved at v-2',
    );
    expect(handler.handled).toEqual([command]);
  });

  it('uses the context attached to the command when none is given', async () => {
    const context = newContext();
    const handler = await app.resolve(WaveHandler, context.id);
    const command = new Wave('v-3');
    context.attachTo(command);

    await app.get(CommandBus).execute(command);
    expect(handler.handled).toEqual([command]);
  });

  it('makes a context of its own for a command sent without one', async () => {
    expect(await app.get(CommandBus).execute(new RecordVisit('v-4'))).toEqual({
      visits: 1,
    });
  });

  it('runs the query handler instance resolved for the context given to execute', async () => {
    await app.get(CommandBus).execute(new RecordVisit('v-5'));
    const context = newContext();
    const handler = await app.resolve(CountVisitsHandler, context.id);
    const query = new CountVisits('v-5');

    expect(await app.get(QueryBus).execute(query, context)).toBe(1);
    expect(handler.handled).toEqual([query]);
    expect(handler.context).toBe(context);
    expect(await app.get(QueryBus).execute(new CountVisits('v-5'))).toBe(1);
  });

  it("hands the command's events to request-scoped event handlers and sagas in the command's context", async () => {
    const context = newContext();
    const onVisit = await app.resolve(VisitRecordedHandler, context.id);
    const thank = await app.resolve(ThankVisitorHandler, context.id);

    await app.get(CommandBus).execute(new RecordVisit('v-6'), context);
    await waitUntil(
      () => onVisit.handled.length > 0 && thank.handled.length > 0,
      'the event handler and the saga in the command context',
      5_000,
    );
    expect(onVisit.handled).toEqual([new VisitRecorded('v-6')]);
    expect(thank.handled).toEqual([new ThankVisitor('v-6')]);
    expect(onVisit.context).toBe(context);
  });

  it('resolves request-scoped event handlers for an event published with a context', async () => {
    const context = newContext();
    const onVisit = await app.resolve(VisitRecordedHandler, context.id);
    const event = new VisitRecorded('v-7');

    await app.get(EventBus).publish(event, context);
    await waitUntil(
      () => onVisit.handled.length > 0,
      'the event handler',
      5_000,
    );
    expect(onVisit.handled).toEqual([event]);
  });
});
