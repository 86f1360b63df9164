import {
  authorizationBlock,
  natsPermissions,
  passwordVariableOf,
  type AppRoutes,
} from '../index.js';

// The subjects an app's permissions list, from what its bootstrap routed.
// (That nats-server reads the block and an app runs under it is
// test/cli-nats-permissions.e2e.spec.ts.)

const routes: AppRoutes = {
  namespace: 'shop',
  served: [
    { kind: 'command', name: 'orders.PlaceOrder' },
    { kind: 'query', name: 'orders.GetOrder' },
  ],
  sent: [{ kind: 'command', name: 'payments.AuthorizePayment' }],
  errorsHandled: [],
};

describe('natsPermissions', () => {
  it('lets an app serve its types, send the others, wake and be woken, report errors and get replies', () => {
    expect(natsPermissions(routes)).toEqual({
      publish: {
        allow: [
          'chronicle.shop.command.payments.AuthorizePayment',
          'chronicle.shop.error.>',
          'chronicle.shop.events',
          'chronicle.shop.serving.command.orders.PlaceOrder',
          'chronicle.shop.serving.query.orders.GetOrder',
        ],
      },
      subscribe: {
        allow: [
          '_INBOX.>',
          'chronicle.shop.command.orders.PlaceOrder',
          'chronicle.shop.events',
          'chronicle.shop.query.orders.GetOrder',
          'chronicle.shop.serving.command.orders.PlaceOrder',
          'chronicle.shop.serving.query.orders.GetOrder',
        ],
      },
      allow_responses: true,
    });
  });

  it('subscribes to the error messages its @HandleError methods take, and only those', () => {
    const some = natsPermissions({
      ...routes,
      errorsHandled: ['payments.AuthorizePayment'],
    });
    expect(some.subscribe.allow).toContain(
      'chronicle.shop.error.payments.AuthorizePayment',
    );
    expect(some.subscribe.allow).not.toContain('chronicle.shop.error.>');
    const all = natsPermissions({ ...routes, errorsHandled: ['*'] });
    expect(all.subscribe.allow).toContain('chronicle.shop.error.>');
  });

  it('writes an authorization block whose password is a server variable, never a value', () => {
    const block = authorizationBlock('orders-eu', natsPermissions(routes));
    expect(passwordVariableOf('orders-eu')).toBe('ORDERS_EU_NATS_PASSWORD');
    expect(block).toContain('password: $ORDERS_EU_NATS_PASSWORD');
    expect(block).toContain('user: "orders-eu"');
    expect(block).toContain('"chronicle.shop.command.orders.PlaceOrder"');
    expect(block).toContain('allow_responses: true');
  });
});
