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

  it('answers 400 for a document search the owning app refused, naming what was wrong', () => {
    const remote = problemOf(
      new RemoteHandlerError(
        'chronicle.documents.orders.Search',
        'InvalidFieldPathError',
        'INVALID_FIELD_PATH',
        'Field path "no such path!" is not allowed.',
      ),
      '/api/queries/chronicle.documents.orders.Search',
    );
    expect(remote).toMatchObject({
      status: 400,
      code: 'INVALID_FIELD_PATH',
      detail: expect.stringContaining('no such path!'),
    });
    expect(
      problemOf(
        new RemoteHandlerError(
          'q',
          'InvalidSearchError',
          'INVALID_SEARCH',
          'bad limit',
        ),
        '/api/queries/q',
      ),
    ).toMatchObject({ status: 400 });
  });
});
