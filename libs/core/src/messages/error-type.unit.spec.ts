import {
  DuplicateErrorTypeError,
  ErrorType,
  ErrorTypeRegistry,
  errorFields,
  rebuildError,
} from './index.js';

@ErrorType('unit.BookAlreadyLent')
class BookAlreadyLent extends Error {
  constructor(
    readonly bookId: string,
    readonly lentTo: string,
  ) {
    super(`Book ${bookId} is already lent to ${lentTo}`);
  }
}

/** Not declared itself: it travels as the declared class it extends. */
class RareBookAlreadyLent extends BookAlreadyLent {}

describe('error types', () => {
  it('registers an error class under a stable name, and finds it for its instances and subclasses', () => {
    expect(ErrorTypeRegistry.forName('unit.BookAlreadyLent')?.target).toBe(
      BookAlreadyLent,
    );
    expect(
      ErrorTypeRegistry.forError(new BookAlreadyLent('b-1', 'ada'))?.name,
    ).toBe('unit.BookAlreadyLent');
    expect(
      ErrorTypeRegistry.forError(new RareBookAlreadyLent('b-2', 'bob'))?.name,
    ).toBe('unit.BookAlreadyLent');
    expect(ErrorTypeRegistry.forError(new Error('x'))).toBeUndefined();
    expect(ErrorTypeRegistry.forError('x')).toBeUndefined();
  });

  it('refuses one name for two classes, naming both', () => {
    expect(() => {
      @ErrorType('unit.BookAlreadyLent')
      class Impostor extends Error {}
      return Impostor;
    }).toThrow(DuplicateErrorTypeError);
  });

  it('refuses a class that is not an error, and an empty name', () => {
    expect(() => {
      @ErrorType('unit.NotAnError')
      class NotAnError {}
      return NotAnError;
    }).toThrow(/does not extend Error/);
    expect(() => ErrorType('')).toThrow(TypeError);
  });

  it('carries own enumerable fields as JSON and rebuilds an instance of the class from them', () => {
    const original = new BookAlreadyLent('b-1', 'ada');
    const fields = errorFields(original);
    expect(fields).toEqual({ bookId: 'b-1', lentTo: 'ada' });
    const rebuilt = rebuildError(BookAlreadyLent, original.message, fields);
    expect(rebuilt).toBeInstanceOf(BookAlreadyLent);
    expect(rebuilt).toMatchObject({
      bookId: 'b-1',
      lentTo: 'ada',
      message: 'Book b-1 is already lent to ada',
    });
    expect(Object.keys(rebuilt)).toEqual(Object.keys(original));
  });

  it('writes a field JSON cannot hold as a note, rather than failing the reply', () => {
    const error = Object.assign(new Error('x'), { big: 10n, ok: 1 });
    expect(errorFields(error)).toEqual({
      big: expect.stringMatching(/^\[not JSON: /),
      ok: 1,
    });
  });
});
