import type {
  INestApplicationContext,
  ModuleMetadata,
  Provider,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  type AggregateClass,
  type AggregateRoot,
  ManualClock,
  type ChronicleModuleOptions,
  type Duration,
} from '@chronicle/core';
import {
  embeddedDatabase,
  postgresDatabase,
  type FixtureDatabase,
} from './fixture-database.js';
import type { StreamEvents } from './given-events.js';
import { Scenario, type WhenAction } from './scenario.js';
import { timeElapses } from './time-elapses.js';

export type FixtureMode = 'embedded' | 'integration';

export interface TestFixtureOptions {
  /** The modules under test, as the app imports them. */
  readonly imports?: ModuleMetadata['imports'];
  /** Extra providers: handlers under test, stand-ins for outside services. */
  readonly providers?: Provider[];
  /**
   * `embedded` (default): PGlite in memory and in-process delivery, no servers.
   * `integration`: PostgreSQL at DATABASE_URL and NATS at NATS_URL, every command
   * and query over the wire. Default: `CHRONICLE_FIXTURE_MODE`, else embedded.
   */
  readonly mode?: FixtureMode;
  /** ChronicleModule options other than where the database and transport are. */
  readonly chronicle?: Omit<ChronicleModuleOptions, 'database' | 'transport'>;
  /** Where the fixture's clock starts. Default: now. */
  readonly startAt?: Date;
}

/**
 * A Nest testing module around the code under test, on a store of its own,
 * with given-when-then scenarios:
 *
 *   await fixture.given(onAggregate(Order, 'o-1', new OrderPlaced(...)))
 *     .when(new ConfirmOrder('o-1'))
 *     .expectEvents(new OrderConfirmed('o-1'));
 */
export class TestFixture {
  private constructor(
    /** The application under test: `fixture.app.get(...)` anything from it. */
    readonly app: INestApplicationContext,
    readonly mode: FixtureMode,
    /** The fixture's clock: it only moves with `advanceTimeBy` or `when(timeElapses(...))`. */
    readonly clock: ManualClock,
    private readonly database: FixtureDatabase,
  ) {}

  /** The schema the app's own unqualified SQL runs in (the start of its search_path); dropped on close. */
  get projectionSchema(): string {
    return this.database.projectionSchema;
  }

  static async create(options: TestFixtureOptions = {}): Promise<TestFixture> {
    const mode =
      options.mode ??
      (process.env.CHRONICLE_FIXTURE_MODE as FixtureMode | undefined) ??
      'embedded';
    const database =
      mode === 'integration'
        ? await postgresDatabase(
            process.env.DATABASE_URL ??
              'postgres://postgres@127.0.0.1:5432/test',
          )
        : await embeddedDatabase();
    const namespace = `fx${database.schema.slice(-12)}`;
    const transport: ChronicleModuleOptions['transport'] =
      mode === 'integration'
        ? {
            nats: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
            namespace,
            routing: 'remote',
          }
        : { local: true };
    const clock = new ManualClock(options.startAt ?? new Date());
    try {
      return new TestFixture(
        await TestFixture.start(options, database, transport, clock),
        mode,
        clock,
        database,
      );
    } catch (error) {
      // A module that fails to compile or start leaves nothing open behind it.
      await database.dispose().catch(() => undefined);
      throw error;
    }
  }

  private static async start(
    options: TestFixtureOptions,
    database: FixtureDatabase,
    transport: ChronicleModuleOptions['transport'],
    clock: ManualClock,
  ): Promise<INestApplicationContext> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app: 'fixture',
          ...options.chronicle,
          database: { client: database.client, schema: database.schema },
          transport,
          // Consumers poll briefly (wake-ups come first anyway); schedules follow the fixture's clock.
          tracking: {
            pollIntervalMs: 10,
            maxPollIntervalMs: 50,
            ...options.chronicle?.tracking,
            // Consumers' tables named by their schema option get the fixture's copy too.
            schemaPrefix: `${database.projectionSchema}_`,
          },
          scheduling: { ...options.chronicle?.scheduling, clock },
        }),
        ...(options.imports ?? []),
      ],
      providers: options.providers ?? [],
    }).compile();
    return moduleRef.init();
  }

  /**
   * A fixture for some handlers and the aggregates they use, without their module:
   * `TestFixture.forHandlers([PlaceOrderHandler], { aggregates: [Order] })`.
   */
  static forHandlers(
    handlers: Provider[],
    options: Omit<TestFixtureOptions, 'providers'> & {
      readonly aggregates?: readonly AggregateClass<AggregateRoot>[];
    } = {},
  ): Promise<TestFixture> {
    return TestFixture.create({
      ...options,
      imports: [
        ...(options.imports ?? []),
        ChronicleModule.forFeature(options.aggregates ?? []),
      ],
      providers: handlers,
    });
  }

  /** Prior history: events on streams (`onAggregate`, `onStream`) or commands that produce them. */
  given(...history: (object | StreamEvents)[]): {
    when(action: WhenAction): Scenario;
  } {
    return {
      when: (action) => new Scenario(this.app, this.clock, history, action),
    };
  }

  /** The action under test, with no prior history. */
  when(action: WhenAction): Scenario {
    return new Scenario(this.app, this.clock, [], action);
  }

  /**
   * Scenarios whose commands, queries and events are sent as `user` (as
   * `CurrentUser.runAs` sends them), so that role checks and what handlers
   * read of the user are tested: `fixture.as({ id: 'ann', roles: ['admin'] }).when(...)`.
   */
  as(user: unknown): {
    given(...history: (object | StreamEvents)[]): {
      when(action: WhenAction): Scenario;
    };
    when(action: WhenAction): Scenario;
  } {
    return {
      given: (...history) => ({
        when: (action) =>
          new Scenario(this.app, this.clock, history, action, user),
      }),
      when: (action) => new Scenario(this.app, this.clock, [], action, user),
    };
  }

  /** Moves the clock on and waits until what came due has been delivered. */
  async advanceTimeBy(duration: Duration): Promise<void> {
    await new Scenario(this.app, this.clock, [], timeElapses(duration));
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.database.dispose();
  }
}
