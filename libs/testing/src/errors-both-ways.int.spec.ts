import { Module } from '@nestjs/common';
import { IsNotEmpty, IsString } from 'class-validator';
import {
  ChronicleError,
  Command,
  CommandHandler,
  CommandType,
  ErrorType,
  MessageGateway,
  newMessageId,
  RemoteHandlerError,
  ValidationError,
  type ICommandHandler,
} from '@chronicle/core';
import {
  FixtureExpectationError,
  TestFixture,
  type FixtureMode,
} from './index.js';

// One spec, run embedded (in process) and in integration mode (PostgreSQL, and
// every command over NATS): what a caller relies on about errors and results
// must hold both ways.

@ErrorType('library.BookAlreadyLent')
class BookAlreadyLent extends ChronicleError {
  readonly code = 'BOOK_ALREADY_LENT';

  constructor(
    readonly bookId: string,
    readonly lentTo: string,
  ) {
    super(`Book ${bookId} is already lent to ${lentTo}`);
  }
}

/** Not declared: in another app it can only be a HANDLER_FAILED. */
class ShelfCollapsed extends Error {}

@CommandType('library.LendBook')
class LendBook extends Command<{ bookId: string; lentAt: Date } | null> {
  @IsString()
  @IsNotEmpty()
  readonly bookId: string;

  constructor(bookId: string) {
    super();
    this.bookId = bookId;
  }
}

@CommandType('library.ShelveBook')
class ShelveBook extends Command<void> {
  constructor(readonly bookId: string) {
    super();
  }
}

/** No app handles it. */
@CommandType('library.ReturnBook')
class ReturnBook extends Command<void> {
  @IsString()
  @IsNotEmpty()
  readonly bookId: string;

  constructor(bookId: string) {
    super();
    this.bookId = bookId;
  }
}

@CommandHandler(LendBook)
class LendBookHandler implements ICommandHandler<LendBook> {
  async execute({ bookId }: LendBook) {
    if (bookId === 'b-lent') throw new BookAlreadyLent(bookId, 'ada');
    if (bookId === 'b-gone') return null;
    return { bookId, lentAt: new Date('2030-01-02T03:04:05Z') };
  }
}

@CommandHandler(ShelveBook)
class ShelveBookHandler implements ICommandHandler<ShelveBook> {
  async execute(): Promise<void> {
    throw new ShelfCollapsed('the shelf in room 3 collapsed');
  }
}

/** Returns what JSON cannot write. */
@CommandType('library.CountPages')
class CountPages extends Command<bigint> {}

@CommandHandler(CountPages)
class CountPagesHandler implements ICommandHandler<CountPages> {
  async execute(): Promise<bigint> {
    return 12_345_678_901_234_567_890n;
  }
}

@Module({ providers: [LendBookHandler, ShelveBookHandler, CountPagesHandler] })
class LibraryModule {}

async function failureOf(run: PromiseLike<void>): Promise<string> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(FixtureExpectationError);
    return (error as Error).message;
  }
  throw new Error('expected the scenario to fail');
}

describe.each<FixtureMode>(['embedded', 'integration'])(
  'errors and results (%s)',
  (mode) => {
    let fixture: TestFixture;
    beforeAll(async () => {
      fixture = await TestFixture.create({ imports: [LibraryModule], mode });
    }, 60_000);
    afterAll(() => fixture.close());

    it('gives a declared domain error as its own class, with its fields', async () => {
      await fixture
        .when(new LendBook('b-lent'))
        .expectError(BookAlreadyLent, 'already lent to ada')
        .expectError(BookAlreadyLent, { bookId: 'b-lent', lentTo: 'ada' })
        .expectNoEvents();
      const error = await fixture.app
        .get(MessageGateway)
        .send(new LendBook('b-lent'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BookAlreadyLent);
      expect(error).toMatchObject({
        code: 'BOOK_ALREADY_LENT',
        bookId: 'b-lent',
        lentTo: 'ada',
      });
    });

    it('says which fields of an expected error differ', async () => {
      const message = await failureOf(
        fixture
          .when(new LendBook('b-lent'))
          .expectError(BookAlreadyLent, { lentTo: 'bob' }),
      );
      expect(message).toContain('Unexpected fields of BookAlreadyLent');
      expect(message).toContain("lentTo: expected 'bob', actual 'ada'");
    });

    it('gives an undeclared error as itself in process, and as HANDLER_FAILED from another app', async () => {
      if (mode === 'embedded') {
        await fixture
          .when(new ShelveBook('b-1'))
          .expectError(ShelfCollapsed, 'room 3');
        return;
      }
      await fixture
        .when(new ShelveBook('b-1'))
        .expectError(
          RemoteHandlerError,
          /^Handler of library\.ShelveBook failed; see the log of app "fixture" for message /,
        );
      const message = await failureOf(
        fixture.when(new ShelveBook('b-2')).expectError(ShelfCollapsed),
      );
      expect(message).toContain('ShelfCollapsed has no @ErrorType');
    });

    it('fails an invalid command with ValidationError before sending, even when no app handles it', async () => {
      await fixture
        .when(new ReturnBook(''))
        .expectError(ValidationError, { messageType: 'library.ReturnBook' })
        .expectError(ValidationError, 'bookId should not be empty');
    });

    it('returns a repeated command in the shape of the first call: the result as JSON', async () => {
      const gateway = fixture.app.get(MessageGateway);
      const id = newMessageId();
      const first = await gateway.send(new LendBook('b-2'), { id });
      const again = await gateway.send(new LendBook('b-2'), { id });
      expect(first).toEqual({
        bookId: 'b-2',
        lentAt: '2030-01-02T03:04:05.000Z',
      });
      expect(again).toEqual(first);
      // null stays null (not undefined) on a repeat.
      const nothing = newMessageId();
      expect(
        await gateway.send(new LendBook('b-gone'), { id: nothing }),
      ).toBeNull();
      expect(
        await gateway.send(new LendBook('b-gone'), { id: nothing }),
      ).toBeNull();
    });

    it('refuses a result JSON cannot write, saying so', async () => {
      const error = await fixture.app
        .get(MessageGateway)
        .send(new CountPages())
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'RESULT_NOT_JSON' });
      expect((error as Error).message).toContain(
        'The result of library.CountPages cannot be written as JSON',
      );
    });
  },
);
