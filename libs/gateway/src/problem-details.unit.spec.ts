import { AggregateNotFoundError, RemoteHandlerError } from '@chronicle/core';
import { problemOf } from './problem-details.js';

describe('problemOf', () => {
  it('answers 404 for an aggregate that does not exist, here or in the app that handled it', () => {
    const here = problemOf(
      new AggregateNotFoundError('orders.Order', 'o-1'),
      '/api/queries/orders.GetOrder',
    );
    expect(here).toMatchObject({
      status: 404,
      title: 'Not Found',
      code: 'AGGREGATE_NOT_FOUND',
    });
    const remote = problemOf(
      new RemoteHandlerError(
        'orders.GetOrder',
        'AggregateNotFoundError',
        'AGGREGATE_NOT_FOUND',
        'orders.Order "o-1" does not exist (its stream has no events).',
      ),
      '/api/queries/orders.GetOrder',
    );
    expect(remote).toMatchObject({ status: 404, code: 'AGGREGATE_NOT_FOUND' });
  });
});
