import {
  AggregateNotFoundError,
  ConcurrencyError,
  DatabaseUnavailableError,
  ErrorType,
  outcomeOf,
  ValidationError,
} from '../index.js';

@ErrorType('outcome.OutOfCoffee')
class OutOfCoffee extends Error {}

// What an operator's alert on `outcome="failed"` sees: the app's trouble, not
// messages that were wrong or refused by the domain's rules.
describe('outcomeOf', () => {
  it('counts what the message or the domain refused as rejected', () => {
    expect(outcomeOf(new OutOfCoffee('none left'))).toBe('rejected');
    expect(outcomeOf(new ValidationError('shop.Order', []))).toBe('rejected');
    expect(outcomeOf(new AggregateNotFoundError('Order', 'o-1'))).toBe(
      'rejected',
    );
    // A declared error relayed from a further app whose class is not here.
    expect(
      outcomeOf(Object.assign(new Error('x'), { errorType: 'far.Refused' })),
    ).toBe('rejected');
  });

  it('counts bugs, infrastructure and conflicts past their retries as failed', () => {
    expect(outcomeOf(new TypeError('undefined is not a function'))).toBe(
      'failed',
    );
    expect(outcomeOf(new DatabaseUnavailableError('down'))).toBe('failed');
    expect(outcomeOf(new ConcurrencyError('s-1', 1, 2))).toBe('failed');
    expect(outcomeOf('a string')).toBe('failed');
  });
});
