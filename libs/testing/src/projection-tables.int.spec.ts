import {
  Inject,
  Injectable,
  Module,
  type INestApplicationContext,
  type OnModuleInit,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  Consumer,
  EventType,
  HandleEvent,
  PgSqlClient,
  ProjectionTables,
  Query,
  QueryBus,
  QueryHandler,
  QueryType,
  SQL_CLIENT,
  UnitOfWork,
  type ConsumerContext,
  type IQueryHandler,
  type SqlClient,
  type StoredEvent,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../../core/test/databases.js';
import { waitUntil } from '../../core/test/wait-until.js';
import { onStream, TestFixture, type FixtureMode } from './index.js';

// A projection as a newcomer writes one: a table created and read through
// SQL_CLIENT and written by a consumer, every name unqualified.

@EventType('library.BookLent')
class BookLent {
  constructor(readonly bookId: string) {}
}

@Injectable()
@Consumer('loans')
class Loans implements OnModuleInit {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  async onModuleInit(): Promise<void> {
    await this.sql.exec('CREATE TABLE IF NOT EXISTS loans (book text)');
  }

  @HandleEvent(BookLent)
  async onLent(
    event: BookLent,
    _envelope: StoredEvent,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    await sql.query('INSERT INTO loans (book) VALUES ($1)', [event.bookId]);
  }
}

// The same projection with its table declared: Chronicle gives it a schema
// of its own, which each fixture gets a fresh copy of.
@Injectable()
@Consumer('shelf-log', { tables: ['CREATE TABLE shelved (book text)'] })
class ShelfLog {
  @HandleEvent(BookLent)
  async onLent(
    event: BookLent,
    _envelope: StoredEvent,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    await sql.query('INSERT INTO shelved (book) VALUES ($1)', [event.bookId]);
  }
}

@QueryType('library.CountLoans')
class CountLoans extends Query<{ lent: number; shelved: number }> {}

@QueryHandler(CountLoans)
class CountLoansHandler implements IQueryHandler<CountLoans> {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    private readonly tables: ProjectionTables,
  ) {}

  async execute(): Promise<{ lent: number; shelved: number }> {
    const [row] = await this.sql.query<{ lent: number }>(
      'SELECT count(*)::int AS lent FROM loans',
    );
    const [shelf] = await this.tables.query<{ shelved: number }>(
      'shelf-log',
      'SELECT count(*)::int AS shelved FROM shelved',
    );
    return { lent: row.lent, shelved: shelf.shelved };
  }
}

@Module({ providers: [Loans, ShelfLog, CountLoansHandler] })
class LibraryModule {}

const lent = (book: string) => onStream(`book-${book}`, new BookLent(book));

describe.each<FixtureMode>(['embedded', 'integration'])(
  'projection tables of fixtures in %s mode',
  (mode) => {
    const create = () => TestFixture.create({ mode, imports: [LibraryModule] });

    describe('a first fixture', () => {
      let fixture: TestFixture;
      beforeAll(async () => (fixture = await create()));
      afterAll(() => fixture.close());

      it('counts its own loan', async () => {
        await fixture
          .given(lent('first'))
          .when(new CountLoans())
          .expectResult({ lent: 1, shelved: 1 });
      });
    });

    describe('a second fixture in the same file', () => {
      let fixture: TestFixture;
      beforeAll(async () => (fixture = await create()));
      afterAll(() => fixture.close());

      it("counts its own loan, not the first fixture's", async () => {
        await fixture
          .given(lent('second'))
          .when(new CountLoans())
          .expectResult({ lent: 1, shelved: 1 });
      });
    });

    it('keeps two fixtures open at once apart', async () => {
      const one = await create();
      try {
        const two = await create();
        try {
          await one
            .given(lent('a'))
            .when(new CountLoans())
            .expectResult({ lent: 1, shelved: 1 });
          await two
            .given(lent('b'), lent('c'))
            .when(new CountLoans())
            .expectResult({ lent: 2, shelved: 2 });
          await one
            .when(new CountLoans())
            .expectResult({ lent: 1, shelved: 1 });
        } finally {
          await two.close();
        }
      } finally {
        await one.close();
      }
    });
  },
);

it("drops a fixture's copy of a consumer's declared tables when it closes", async () => {
  const fixture = await TestFixture.create({
    mode: 'integration',
    imports: [LibraryModule],
  });
  const own = `${fixture.projectionSchema}_shelf_log`;
  const client = PgSqlClient.connect(DATABASE_URL, { max: 1 });
  const present = () =>
    client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [own]);
  try {
    expect(await present()).toHaveLength(1);
    await fixture.close();
    expect(await present()).toHaveLength(0);
  } finally {
    await client.close();
  }
});

describe('an integration-mode fixture beside a running app', () => {
  const schema = freshSchema('running');
  let running: INestApplicationContext;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app: 'library',
          database: { url: DATABASE_URL, schema },
          transport: { local: true },
        }),
        LibraryModule,
      ],
    }).compile();
    running = await moduleRef.init();
  });

  afterAll(async () => {
    await running.close();
    const cleanup = PgSqlClient.connect(DATABASE_URL, { max: 1 });
    await cleanup.exec(
      `DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_projections" CASCADE;` +
        ` DROP SCHEMA IF EXISTS "${schema}_projections_shelf_log" CASCADE`,
    );
    await cleanup.close();
  });

  it("neither reads nor writes the app's projection table", async () => {
    const queries = running.get(QueryBus);
    await running
      .get(UnitOfWork)
      .append('book-running', [new BookLent('running')], 'any');
    await waitUntil(async () => {
      const counts = await queries.execute(new CountLoans());
      return counts.lent === 1 && counts.shelved === 1;
    }, "the running app's consumer projected its loan");

    const fixture = await TestFixture.create({
      mode: 'integration',
      imports: [LibraryModule],
    });
    try {
      await fixture
        .given(lent('in-test'))
        .when(new CountLoans())
        .expectResult({ lent: 1, shelved: 1 });
    } finally {
      await fixture.close();
    }
    expect(await queries.execute(new CountLoans())).toEqual({
      lent: 1,
      shelved: 1,
    });
  });
});
